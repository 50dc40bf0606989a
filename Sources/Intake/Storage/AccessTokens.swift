import Curl
import Database
import Foundation
import Integrations
import Sodium

/// OAuth accounts' tokens, sealed at rest, and `validAccessToken`: the seed's
/// `getValidAccessToken`. A token expiring within five minutes is refreshed; one refresh per
/// account at a time across every process (a lease row in the database), the others wait and
/// reuse its result. A rotated refresh token is stored. `invalid_grant` or a revocation makes the
/// account's storage accounts DISCONNECTED; network errors and 5xx make them ERROR with the
/// reason; a success brings ERROR back to ACTIVE and records `last_accessed_at`.
public final class AccessTokens {
    let db: Database
    let clock: Clock
    let key: [UInt8]
    let providers: [OAuthProvider.Kind: OAuthProvider]
    let curl: CurlClient
    /// Who holds a lease: this process and thread, for the lease row.
    let holder: String
    let retry: RetryPolicy

    /// Refresh when the token has less than this left.
    public static let refreshMargin: Int64 = 300
    /// A lease not released within this long (its holder died) may be taken over.
    public static let leaseSeconds: Int64 = 30

    public init(db: Database, clock: Clock, secretKey: [UInt8], providers: [OAuthProvider.Kind: OAuthProvider], curl: CurlClient,
                holder: String, retry: RetryPolicy = RetryPolicy()) {
        self.db = db
        self.clock = clock
        self.key = secretKey
        self.providers = providers
        self.curl = curl
        self.holder = holder
        self.retry = retry
    }

    static func context(_ id: Int64, _ which: String) -> String { "oauth_account:\(id):\(which)" }

    /// Stores an OAuth account's identity and tokens (sealed), creating or updating it.
    @discardableResult
    public func store(userID: Int64, provider: OAuthProvider.Kind, identity: ProviderIdentity, grant: TokenGrant, scopes: String) throws -> Int64 {
        try db.write {
            let now = clock.now()
            let id = try db.scalar("""
                INSERT INTO oauth_accounts (user_id, provider, provider_account_id, email, name, scopes, created_at, updated_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
                ON CONFLICT (provider, provider_account_id) DO UPDATE SET email = excluded.email, name = excluded.name,
                    scopes = excluded.scopes, updated_at = excluded.updated_at
                RETURNING id
                """, [userID, provider.rawValue, identity.accountID, identity.email, identity.name, scopes, now], as: Int64.self)!
            try saveTokens(id: id, grant: grant, now: now)
            return id
        }
    }

    private func saveTokens(id: Int64, grant: TokenGrant, now: Int64) throws {
        let access = try SecretBox.seal(grant.accessToken, key: key, context: Self.context(id, "access_token"))
        if let refresh = grant.refreshToken {
            let sealed = try SecretBox.seal(refresh, key: key, context: Self.context(id, "refresh_token"))
            try db.execute("UPDATE oauth_accounts SET refresh_token_sealed = $1 WHERE id = $2", [sealed, id])
        }
        try db.execute("UPDATE oauth_accounts SET access_token_sealed = $1, access_token_expires_at = $2, updated_at = $3 WHERE id = $4",
                       [access, now + grant.expiresIn, now, id])
    }

    /// A valid access token for the OAuth account, refreshed if it expires within five minutes.
    public func validAccessToken(oauthAccountID id: Int64, actor: AuditLog.Actor) throws -> String {
        let deadline = Date().addingTimeInterval(Double(Self.leaseSeconds))
        while true {
            if let token = try freshToken(id) { return token }
            if try acquireLease(id) {
                defer { try? db.execute("DELETE FROM oauth_refresh_leases WHERE oauth_account_id = $1 AND holder = $2", [id, holder]) }
                // Someone may have refreshed between our look and our lease.
                if let token = try freshToken(id) { return token }
                return try refresh(id, actor: actor)
            }
            guard Date() < deadline else { throw OAuthError.temporary("another refresh of this account did not finish") }
            Thread.sleep(forTimeInterval: 0.05)
        }
    }

    /// The OAuth account behind a cloud storage account (the same user, provider and provider
    /// account id), or nil when it is gone.
    public func oauthAccountID(for account: StorageAccount) throws -> Int64? {
        let provider: OAuthProvider.Kind
        switch account.provider {
        case .googleDrive: provider = .google
        case .dropbox: provider = .dropbox
        case .local: return nil
        }
        return try db.scalar("SELECT id FROM oauth_accounts WHERE user_id = $1 AND provider = $2 AND provider_account_id = $3",
                             [account.userID, provider.rawValue, account.providerAccountID], as: Int64.self)
    }

    /// Forgets the access token (the provider said it is no longer valid), so the next call refreshes.
    public func invalidateAccessToken(oauthAccountID id: Int64) throws {
        try db.execute("UPDATE oauth_accounts SET access_token_expires_at = 0 WHERE id = $1", [id])
    }

    private func freshToken(_ id: Int64) throws -> String? {
        guard let row = try db.queryOne("SELECT access_token_sealed, access_token_expires_at FROM oauth_accounts WHERE id = $1", [id]) else {
            throw ValidationError("", "There is no such OAuth account.")
        }
        guard let sealed: [UInt8] = try row.get("access_token_sealed"), let expires: Int64 = try row.get("access_token_expires_at"),
              expires - clock.now() > Self.refreshMargin else { return nil }
        return try SecretBox.openText(sealed, key: key, context: Self.context(id, "access_token"))
    }

    private func acquireLease(_ id: Int64) throws -> Bool {
        try db.write {
            let now = clock.now()
            try db.execute("DELETE FROM oauth_refresh_leases WHERE oauth_account_id = $1 AND expires_at <= $2", [id, now])
            return try db.execute("""
                INSERT INTO oauth_refresh_leases (oauth_account_id, holder, expires_at) VALUES ($1, $2, $3)
                ON CONFLICT (oauth_account_id) DO NOTHING
                """, [id, holder, now + Self.leaseSeconds]) == 1
        }
    }

    private func refresh(_ id: Int64, actor: AuditLog.Actor) throws -> String {
        let row = try db.queryOne("SELECT user_id, provider, provider_account_id, refresh_token_sealed FROM oauth_accounts WHERE id = $1", [id])!
        let kindText: String = try row.get("provider")
        guard let kind = OAuthProvider.Kind(rawValue: kindText), let provider = providers[kind], provider.isConfigured else {
            throw OAuthError.refused(status: 0, error: "\(kindText) is not configured")
        }
        guard let sealed: [UInt8] = try row.get("refresh_token_sealed") else {
            try changeStorageStatus(row, .accessRevoked, reason: "no refresh token", actor: actor)
            throw OAuthError.revoked("no refresh token")
        }
        let refreshToken = try SecretBox.openText(sealed, key: key, context: Self.context(id, "refresh_token"))
        do {
            let grant = try OAuthClient(provider: provider, retry: retry).refresh(refreshToken: refreshToken, client: curl)
            try db.write {
                try saveTokens(id: id, grant: grant, now: clock.now())
                try db.execute("UPDATE storage_accounts SET last_accessed_at = $1 WHERE user_id = $2 AND provider_account_id = $3",
                               [clock.now(), try row.get("user_id", as: Int64.self), try row.get("provider_account_id", as: String.self)])
                try changeStorageStatus(row, .providerReachable, reason: nil, actor: actor)
            }
            return grant.accessToken
        } catch let error as OAuthError {
            switch error {
            case .revoked(let code): try changeStorageStatus(row, .accessRevoked, reason: "refresh refused: \(code)", actor: actor)
            case .temporary(let code): try changeStorageStatus(row, .temporaryFailure, reason: "refresh failed: \(code)", actor: actor)
            case .refused: break
            }
            throw error
        }
    }

    /// Applies `event` to every storage account behind this OAuth account, where the diagram allows.
    private func changeStorageStatus(_ oauthRow: Row, _ event: StorageAccountEvent, reason: String?, actor: AuditLog.Actor) throws {
        let store = StorageAccountStore(db: db, clock: clock)
        let ids = try db.query("SELECT id FROM storage_accounts WHERE user_id = $1 AND provider_account_id = $2 AND provider <> 'local'",
                               [try oauthRow.get("user_id", as: Int64.self), try oauthRow.get("provider_account_id", as: String.self)])
            .map { try $0.get("id", as: Int64.self) }
        for storageID in ids {
            do {
                try store.handleStatusChange(accountID: storageID, event: event, reason: reason, by: actor)
            } catch is StorageAccountTransitions.Refused {
                // Not every state takes every event (an INACTIVE account stays so on a hiccup).
            }
        }
    }
}
