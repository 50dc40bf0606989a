import Curl
import Database
import Integrations

/// The seed's `StorageAccountManager` entry points that work across a user's accounts, and the
/// owner's actions that need the provider: reactivate (Check again) and disconnect.
public struct StorageAccountManager {
    let db: Database
    let clock: EpochClock
    let onStatusChange: ((StorageAccountStatusChange) -> Void)?

    /// `onStatusChange` hears of every status change made here (the worker logs them).
    public init(db: Database, clock: EpochClock, onStatusChange: ((StorageAccountStatusChange) -> Void)? = nil) {
        self.db = db
        self.clock = clock
        self.onStatusChange = onStatusChange
    }

    var store: StorageAccountStore { StorageAccountStore(db: db, clock: clock, onStatusChange: onStatusChange) }

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

    /// The scope that gives storage access at each provider.
    static func grantsStorage(_ kind: OAuthProvider.Kind, scopes: String) -> Bool {
        let granted = Set(scopes.split(separator: " ").map(String.init))
        return kind == .google ? granted.contains("https://www.googleapis.com/auth/drive.file") : granted.contains("files.content.write")
    }

    /// `ensureStorageAccountsForUser`: a storage account for every OAuth account of the user that
    /// holds storage access (with `forceCreate`, for sign-in-only accounts too), created when
    /// missing. A DISCONNECTED one is left alone when `respectDisconnected`; otherwise it comes
    /// back only if the provider still honours its grant (a token refresh through `tokens`) — a
    /// refusal, or no `tokens` to ask with, is reported in `errors` with the advice to reconnect
    /// (issue 12 item 7: never a revival without asking the provider). Safe to run concurrently:
    /// `createOrGet` relies on the unique key, not on a lock.
    public func ensureStorageAccounts(userID: Int64, forceCreate: Bool = false, respectDisconnected: Bool, tokens: AccessTokens? = nil,
                                      by actor: AuditLog.Actor) throws -> Summary {
        var summary = Summary()
        let rows = try db.query("SELECT provider, provider_account_id, email, name, scopes FROM oauth_accounts WHERE user_id = $1 ORDER BY id", [userID])
        for row in rows {
            do {
                guard let kind = OAuthProvider.Kind(rawValue: try row.get("provider")) else { continue }
                let scopes: String = try row.get("scopes")
                guard forceCreate || Self.grantsStorage(kind, scopes: scopes) else { continue }
                let email: String? = try row.get("email")
                let result = try store.createOrGet(
                    userID: userID, provider: StorageProviderKind(kind), providerAccountID: try row.get("provider_account_id"),
                    email: email, displayName: StorageProviderKind(kind).displayName + (email.map { " (\($0))" } ?? ""), by: actor)
                if result.created {
                    summary.created += 1
                } else if result.account.status == .disconnected && !respectDisconnected {
                    let name = result.account.displayName
                    guard let tokens else {
                        summary.errors.append("\(name) is disconnected; reconnect it")
                        continue
                    }
                    switch try reactivate(result.account, tokens: tokens, by: actor) {
                    case .reactivated: summary.reactivated += 1
                    case .reconnectRequired(let why): summary.errors.append("\(name) is disconnected: \(why); reconnect it")
                    case .providerUnavailable(let why): summary.errors.append("\(name) is disconnected and \(why); try again later")
                    }
                } else {
                    summary.validated += 1
                }
            } catch {
                summary.errors.append("\(error)")
            }
        }
        return summary
    }

    /// The users holding OAuth accounts (or just `userID`'s, if it holds any), by id, with their e-mail.
    public func usersWithOAuthAccounts(userID: Int64?) throws -> [(id: Int64, email: String)] {
        try db.query("""
            SELECT u.id, u.email FROM users u WHERE (CAST($1 AS BIGINT) IS NULL OR u.id = $1) AND EXISTS (SELECT 1 FROM oauth_accounts o WHERE o.user_id = u.id)
            ORDER BY u.id
            """, [userID]).map { (try $0.get("id"), try $0.get("email")) }
    }

    /// An OAuth account of a user as the storage API lists it: with its storage account, if any,
    /// and what is known of its grant.
    public struct Connection: Sendable, Equatable {
        public let oauthAccountID: Int64
        public let provider: OAuthProvider.Kind
        public let providerAccountID: String
        public let email: String?
        public let name: String?
        public let storageAccountID: Int64?
        public let storageStatus: StorageAccountStatus?
        public let grant: OAuthGrantState
    }

    /// The user's OAuth accounts, oldest first, each with its storage account and grant state.
    public func connections(userID: Int64) throws -> [Connection] {
        let rows = try db.query("""
            SELECT o.id, o.provider, o.provider_account_id, o.email, o.name, o.refresh_token_sealed IS NOT NULL AS has_refresh,
                   s.id AS storage_id, s.status
            FROM oauth_accounts o
            LEFT JOIN storage_accounts s ON s.user_id = o.user_id AND s.provider_account_id = o.provider_account_id
                 AND s.provider = CASE o.provider WHEN 'google' THEN 'google_drive' ELSE 'dropbox' END
            WHERE o.user_id = $1 ORDER BY o.id
            """, [userID])
        return try rows.compactMap { row in
            guard let kind = OAuthProvider.Kind(rawValue: try row.get("provider")) else { return nil }
            let status = try row.get("status", as: String?.self).flatMap(StorageAccountStatus.init(rawValue:))
            return Connection(oauthAccountID: try row.get("id"), provider: kind, providerAccountID: try row.get("provider_account_id"),
                              email: try row.get("email"), name: try row.get("name"), storageAccountID: try row.get("storage_id"),
                              storageStatus: status, grant: .of(refreshTokenHeld: try row.get("has_refresh"), status: status))
        }
    }

    /// What a reactivation came to.
    public enum Reactivation: Sendable, Equatable {
        /// The account is ACTIVE again, with what that did to its portals.
        case reactivated(PortalManagementResult)
        /// The provider refused the grant, or none is held: only the OAuth flow brings it back.
        /// Nothing else changed.
        case reconnectRequired(String)
        /// The provider could not be asked (or refused the request itself): nothing changed but
        /// the reason recorded with an account in ERROR.
        case providerUnavailable(String)
    }

    /// The owner's Reactivate (and Check again). A paused account is switched back on at once: its
    /// grant was never in question. A DISCONNECTED or ERROR cloud account comes back only if a
    /// token refresh succeeds now (issue 12 item 7); a local-disk account has no grant to ask
    /// about. An ACTIVE account is refused by the diagram.
    public func reactivate(_ account: StorageAccount, tokens: AccessTokens, by actor: AuditLog.Actor) throws -> Reactivation {
        switch (account.status, account.provider) {
        case (.active, _), (.inactive, _):
            return .reactivated(try store.handleStatusChange(accountID: account.id, event: .ownerReactivates, reason: "reactivated by its owner", by: actor))
        case (.disconnected, .local), (.error, .local):
            // The disk is here: nothing to ask. Coming back is the owner's reconnect.
            return .reactivated(try store.handleStatusChange(accountID: account.id, event: .reconnected, reason: "reactivated by its owner", by: actor))
        case (.disconnected, _), (.error, _):
            guard let oauthID = try tokens.oauthAccountID(for: account), try tokens.holdsGrant(oauthAccountID: oauthID) else {
                return .reconnectRequired("Intake no longer holds access to it")
            }
            let changes: [Int64: PortalManagementResult]
            do {
                changes = try tokens.confirmGrant(oauthAccountID: oauthID, actor: actor)
            } catch let error as OAuthError {
                switch error {
                case .revoked(let code): return .reconnectRequired("the provider refused access (\(code))")
                case .temporary(let code): return .providerUnavailable("the provider could not be reached (\(code))")
                case .refused(let status, let code): return .providerUnavailable("the provider refused the request (\(status), \(code))")
                }
            }
            guard let result = changes[account.id], result.to == .active else {
                let now = try store.find(id: account.id)?.status.rawValue ?? "gone"
                return .providerUnavailable("the account did not come back (it is \(now))")
            }
            return .reactivated(result)
        }
    }

    /// The owner's Disconnect: see `AccessTokens.disconnect`. A local-disk account has no grant:
    /// it only changes state.
    public func disconnect(_ account: StorageAccount, tokens: AccessTokens?, by actor: AuditLog.Actor) throws -> (result: PortalManagementResult, revocation: AccessTokens.Revocation) {
        let reason = "disconnected by its owner"
        guard account.provider != .local, let tokens else {
            return (try store.handleStatusChange(accountID: account.id, event: .ownerDisconnects, reason: reason, by: actor), .nothingHeld)
        }
        return try tokens.disconnect(account, reason: reason, actor: actor)
    }

    /// Checks every OAuth account of the user against its provider (a valid token, then the
    /// identity call); `AccessTokens` moves the storage accounts' states by what it finds.
    public func syncOAuthStatus(userID: Int64, tokens: AccessTokens, providers: [OAuthProvider.Kind: OAuthProvider], http: any HTTPTransport,
                                by actor: AuditLog.Actor) throws -> (checked: Int, failures: [String]) {
        var failures: [String] = []
        let rows = try db.query("SELECT id, provider FROM oauth_accounts WHERE user_id = $1 ORDER BY id", [userID])
        for row in rows {
            let id: Int64 = try row.get("id")
            guard let kind = OAuthProvider.Kind(rawValue: try row.get("provider")), let provider = providers[kind], provider.isConfigured else { continue }
            do {
                try Self.askProvider(oauthAccountID: id, provider: provider, tokens: tokens, http: http, by: actor)
            } catch {
                failures.append("\(kind.rawValue): \(error)")
            }
        }
        return (rows.count, failures)
    }

    /// A valid token, then the identity call; an access token the provider refuses is renewed
    /// once, so only a refused refresh counts as access gone for good.
    /// A refused refresh is final (thrown at once); only the identity call's refusal is retried.
    static func askProvider(oauthAccountID id: Int64, provider: OAuthProvider, tokens: AccessTokens, http: any HTTPTransport,
                            retry: RetryPolicy = RetryPolicy(), by actor: AuditLog.Actor) throws {
        let client = OAuthClient(provider: provider, retry: retry)
        let token = try tokens.validAccessToken(oauthAccountID: id, actor: actor)
        do {
            _ = try client.identity(accessToken: token, client: http)
        } catch OAuthError.revoked {
            try tokens.invalidateAccessToken(oauthAccountID: id)
            let renewed = try tokens.validAccessToken(oauthAccountID: id, actor: actor)
            do {
                _ = try client.identity(accessToken: renewed, client: http)
            } catch OAuthError.revoked(let code) {
                // The token endpoint has just honoured the grant: a refusal now is the identity
                // call's trouble, not the grant's end.
                throw OAuthError.refused(status: 401, error: "the identity call refused a freshly refreshed token (\(code))")
            }
        }
    }
}
