import Curl
import Database
import Integrations

/// The seed's `StorageAccountManager` entry points that work across a user's accounts.
public struct StorageAccountManager {
    let db: Database
    let clock: Clock

    public init(db: Database, clock: Clock) {
        self.db = db
        self.clock = clock
    }

    /// The summary the seed's endpoints return.
    public struct Summary: Sendable, Equatable {
        public var created = 0
        public var reactivated = 0
        public var validated = 0
        public var errors: [String] = []

        public init(created: Int = 0, reactivated: Int = 0, validated: Int = 0, errors: [String] = []) {
            self.created = created
            self.reactivated = reactivated
            self.validated = validated
            self.errors = errors
        }
    }

    public static func storageKind(_ kind: OAuthProvider.Kind) -> StorageProviderKind { kind == .google ? .googleDrive : .dropbox }

    /// The scope that gives storage access at each provider.
    static func grantsStorage(_ kind: OAuthProvider.Kind, scopes: String) -> Bool {
        let granted = Set(scopes.split(separator: " ").map(String.init))
        return kind == .google ? granted.contains("https://www.googleapis.com/auth/drive.file") : granted.contains("files.content.write")
    }

    /// `ensureStorageAccountsForUser`: a storage account for every OAuth account of the user that
    /// holds storage access (with `forceCreate`, for sign-in-only accounts too); created when
    /// missing, a DISCONNECTED one reactivated unless `respectDisconnected`. Safe to run
    /// concurrently: `createOrGet` relies on the unique key, not on a lock.
    public func ensureStorageAccounts(userID: Int64, forceCreate: Bool = false, respectDisconnected: Bool,
                                      by actor: AuditLog.Actor) throws -> Summary {
        var summary = Summary()
        let rows = try db.query("SELECT provider, provider_account_id, email, name, scopes FROM oauth_accounts WHERE user_id = $1 ORDER BY id", [userID])
        for row in rows {
            do {
                guard let kind = OAuthProvider.Kind(rawValue: try row.get("provider")) else { continue }
                let scopes: String = try row.get("scopes")
                guard forceCreate || Self.grantsStorage(kind, scopes: scopes) else { continue }
                let email: String? = try row.get("email")
                let result = try StorageAccountStore(db: db, clock: clock).createOrGet(
                    userID: userID, provider: Self.storageKind(kind), providerAccountID: try row.get("provider_account_id"),
                    email: email, displayName: (kind == .google ? "Google Drive" : "Dropbox") + (email.map { " (\($0))" } ?? ""),
                    respectDisconnected: respectDisconnected, by: actor)
                if result.created { summary.created += 1 } else if result.reactivated { summary.reactivated += 1 } else { summary.validated += 1 }
            } catch {
                summary.errors.append("\(error)")
            }
        }
        return summary
    }

    /// Checks every OAuth account of the user against its provider (a valid token, then the
    /// identity call); `AccessTokens` moves the storage accounts' states by what it finds.
    public func syncOAuthStatus(userID: Int64, tokens: AccessTokens, providers: [OAuthProvider.Kind: OAuthProvider], curl: CurlClient,
                                by actor: AuditLog.Actor) throws -> (checked: Int, failures: [String]) {
        var failures: [String] = []
        let rows = try db.query("SELECT id, provider FROM oauth_accounts WHERE user_id = $1 ORDER BY id", [userID])
        for row in rows {
            let id: Int64 = try row.get("id")
            guard let kind = OAuthProvider.Kind(rawValue: try row.get("provider")), let provider = providers[kind], provider.isConfigured else { continue }
            do {
                let token = try tokens.validAccessToken(oauthAccountID: id, actor: actor)
                do {
                    _ = try OAuthClient(provider: provider).identity(accessToken: token, client: curl)
                } catch OAuthError.revoked {
                    // The access token was refused: a refresh decides whether access is gone for good.
                    try tokens.invalidateAccessToken(oauthAccountID: id)
                    let renewed = try tokens.validAccessToken(oauthAccountID: id, actor: actor)
                    _ = try OAuthClient(provider: provider).identity(accessToken: renewed, client: curl)
                }
            } catch {
                failures.append("\(kind.rawValue): \(error)")
            }
        }
        return (rows.count, failures)
    }
}
