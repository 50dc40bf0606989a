import Curl
import Database
import Logging
import Foundation
import Integrations
import Sodium
import Spool

/// OAuth accounts' tokens, sealed at rest, and `validAccessToken`: the seed's
/// `getValidAccessToken`. A token expiring within five minutes is refreshed; one refresh per
/// account at a time across every process (a lease row in the database), the others wait and
/// reuse its result. A rotated refresh token is stored. `invalid_grant` or a revocation makes the
/// account's storage accounts DISCONNECTED; network errors and 5xx make them ERROR with the
/// reason; a success brings ERROR (and DISCONNECTED) back to ACTIVE and records `last_accessed_at`.
/// `confirmGrant` asks the provider on demand (Check again, Reactivate); `disconnect` revokes the
/// grant at the provider and forgets the tokens.
public final class AccessTokens {
    let db: Database
    let clock: EpochClock
    let key: [UInt8]
    let providers: [OAuthProvider.Kind: OAuthProvider]
    /// Where the token and revocation requests go (libcurl in production).
    let http: any HTTPTransport
    /// Which processes still run: a refresh lease of a dead one is taken over at once.
    let liveness: any ProcessLiveness
    /// Who holds this account's refresh lease when this instance refreshes (each instance its own).
    let holder: LeaseHolder
    let retry: RetryPolicy
    /// Hears of every storage account status change this makes (the worker logs them).
    let onStatusChange: ((StorageAccountStatusChange) -> Void)?
    /// Hears how each refresh at a provider ended, for `/metrics`.
    let counters: any OperationCounters

    /// Refresh when the token has less than this left.
    public static let refreshMargin: Int64 = 300
    /// A lease not released within this long (its holder died) may be taken over.
    public static let leaseSeconds: Int64 = 30
    /// One refresh per account at a time: a row of `oauth_refresh_leases` while it runs.
    static let leaseStorage = Lease.Storage(table: "oauth_refresh_leases", key: "oauth_account_id", holder: "holder", expires: "expires_at", ownRow: true)

    public init(db: Database, clock: EpochClock, secretKey: [UInt8], providers: [OAuthProvider.Kind: OAuthProvider], http: any HTTPTransport,
                liveness: any ProcessLiveness = LocalProcesses(), retry: RetryPolicy = RetryPolicy(),
                onStatusChange: ((StorageAccountStatusChange) -> Void)? = nil, counters: any OperationCounters = .none) {
        self.db = db
        self.clock = clock
        self.key = secretKey
        self.providers = providers
        self.http = http
        self.liveness = liveness
        holder = LeaseHolder(of: liveness)
        self.retry = retry
        self.onStatusChange = onStatusChange
        self.counters = counters
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

    /// Where refusals that change no account's state are logged.
    static let log = Logger(label: "intake.tokens")

    /// A valid access token for the OAuth account, refreshed if it expires within five minutes.
    public func validAccessToken(oauthAccountID id: Int64, actor: AuditLog.Actor) throws -> String {
        let deadline = clock.now() + Self.leaseSeconds
        while true {
            let token = try freshToken(id)
            let observation: TokenRefreshMachine.Observation = token != nil ? .tokenFresh : try acquireLease(id) ? .leaseTaken : .leaseHeldElsewhere
            switch TokenRefreshMachine.next(observation, now: clock.now(), deadline: deadline) {
            case .useToken:
                return token!
            case .refreshUnderLease:
                defer { releaseLease(id) }
                // Someone may have refreshed between our look and our lease.
                if let token = try freshToken(id) { return token }
                return try refresh(id, actor: actor).token
            case .waitAndLookAgain:
                clock.pause(milliseconds: TokenRefreshMachine.pauseMilliseconds)
            case .giveUp:
                throw OAuthError.temporary("another refresh of this account did not finish")
            }
        }
    }

    /// Asks the provider now whether the grant still holds: a token refresh under the lease,
    /// whatever the access token's age (Check again, Reactivate, fix storage). A success brings the
    /// storage accounts behind it back to ACTIVE from ERROR or DISCONNECTED (not a paused one) and
    /// answers what that did, by storage account id; a refusal makes them DISCONNECTED and a
    /// network error or 5xx ERROR (a DISCONNECTED one stays so), and is thrown.
    @discardableResult
    public func confirmGrant(oauthAccountID id: Int64, actor: AuditLog.Actor) throws -> [Int64: PortalManagementResult] {
        try withLease(id) { try refresh(id, actor: actor).changes }
    }

    /// Whether a refresh token is held for the OAuth account: without one, only the OAuth flow
    /// can bring access back.
    public func holdsGrant(oauthAccountID id: Int64) throws -> Bool {
        try db.scalar("SELECT refresh_token_sealed IS NOT NULL FROM oauth_accounts WHERE id = $1", [id], as: Bool.self) ?? false
    }

    /// What the provider made of a disconnect.
    public enum Revocation: Sendable, Equatable {
        /// The provider revoked the grant.
        case revoked
        /// The provider no longer knew the token: the grant was gone already.
        case alreadyGone
        /// Intake held no token to revoke.
        case nothingHeld
        /// The provider could not be reached, or refused: the grant may still live there.
        case notTold(String)

        /// Whether the provider knows that Intake's access is over.
        public var providerTold: Bool {
            if case .notTold = self { return false }
            return true
        }
    }

    /// The owner's Disconnect (issue 12 item 8): revokes the grant at the provider, then — in one
    /// transaction — forgets the tokens and moves the storage account to DISCONNECTED (its
    /// portals switched off automatically, an audit entry). A provider that cannot be told does
    /// not stop the disconnect here: the answer says so, and the reason recorded with the
    /// account says so too. Holds the refresh lease throughout, so no refresh stores new tokens
    /// behind it. A transition the diagram refuses is thrown before the provider is called.
    public func disconnect(_ account: StorageAccount, reason: String, actor: AuditLog.Actor) throws -> (result: PortalManagementResult, revocation: Revocation) {
        _ = try StorageAccountTransitions.next(account.status, .ownerDisconnects)
        let store = StorageAccountStore(db: db, clock: clock, onStatusChange: onStatusChange)
        guard let id = try oauthAccountID(for: account) else {
            return (try store.handleStatusChange(accountID: account.id, event: .ownerDisconnects, reason: reason, by: actor), .nothingHeld)
        }
        return try withLease(id) {
            let revocation = revokeAtProvider(id)
            var recorded = reason
            if case .notTold(let why) = revocation { recorded += "; the provider could not be told (\(why))" }
            let result = try db.write {
                try db.execute("""
                    UPDATE oauth_accounts SET access_token_sealed = NULL, refresh_token_sealed = NULL, access_token_expires_at = NULL,
                        updated_at = $1 WHERE id = $2
                    """, [clock.now(), id])
                return try store.handleStatusChange(accountID: account.id, event: .ownerDisconnects, reason: recorded, by: actor)
            }
            return (result, revocation)
        }
    }

    /// Revokes with the token the provider takes: Google the refresh token (that ends the whole
    /// grant), or the access token when no refresh token is held; Dropbox an access token as
    /// bearer, a short-lived one from the refresh token when the stored one has expired.
    private func revokeAtProvider(_ id: Int64) -> Revocation {
        do {
            guard let row = try db.queryOne("""
                SELECT provider, access_token_sealed, access_token_expires_at, refresh_token_sealed FROM oauth_accounts WHERE id = $1
                """, [id]) else { return .nothingHeld }
            let kindText: String = try row.get("provider")
            guard let kind = OAuthProvider.Kind(rawValue: kindText), let provider = providers[kind], provider.isConfigured else {
                return .notTold("\(kindText) is not configured")
            }
            let refresh = try (row.get("refresh_token_sealed", as: [UInt8]?.self)).map {
                try SecretBox.openText($0, key: key, context: Self.context(id, "refresh_token"))
            }
            var access: String?
            if let sealed: [UInt8] = try row.get("access_token_sealed"), let expires: Int64 = try row.get("access_token_expires_at"), expires > clock.now() {
                access = try SecretBox.openText(sealed, key: key, context: Self.context(id, "access_token"))
            }
            let client = OAuthClient(provider: provider, retry: retry)
            var token: String?
            switch kind {
            case .google:
                token = refresh ?? access
            case .dropbox:
                token = access
                if token == nil, let refresh {
                    token = try client.refresh(refreshToken: refresh, client: http).accessToken
                }
            }
            guard let token else { return .nothingHeld }
            try client.revoke(token: token, client: http)
            return .revoked
        } catch OAuthError.revoked {
            return .alreadyGone
        } catch {
            return .notTold("\(error)")
        }
    }

    /// Runs `body` holding this account's refresh lease, waiting for another holder to finish.
    private func withLease<T>(_ id: Int64, _ body: () throws -> T) throws -> T {
        let deadline = clock.now() + Self.leaseSeconds
        while true {
            switch TokenRefreshMachine.next(try acquireLease(id) ? .leaseTaken : .leaseHeldElsewhere, now: clock.now(), deadline: deadline) {
            case .refreshUnderLease, .useToken:
                defer { releaseLease(id) }
                return try body()
            case .waitAndLookAgain:
                clock.pause(milliseconds: TokenRefreshMachine.pauseMilliseconds)
            case .giveUp:
                throw OAuthError.temporary("another refresh of this account did not finish")
            }
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

    private var lease: Lease { Lease(db: db, clock: clock, liveness: liveness, storage: Self.leaseStorage) }

    private func releaseLease(_ id: Int64) {
        _ = try? lease.release(id, by: holder)
    }

    private func acquireLease(_ id: Int64) throws -> Bool {
        try lease.acquire(id, for: holder, seconds: Self.leaseSeconds)
    }

    private func refresh(_ id: Int64, actor: AuditLog.Actor) throws -> (token: String, changes: [Int64: PortalManagementResult]) {
        let row = try db.queryOne("SELECT user_id, provider, provider_account_id, refresh_token_sealed FROM oauth_accounts WHERE id = $1", [id])!
        let kindText: String = try row.get("provider")
        guard let kind = OAuthProvider.Kind(rawValue: kindText) else { throw OAuthError.refused(status: 0, error: "\(kindText) is not configured") }
        guard let provider = providers[kind], provider.isConfigured else {
            counters.tokenRefreshed(kind, .refused)
            throw OAuthError.refused(status: 0, error: "\(kindText) is not configured")
        }
        guard let sealed: [UInt8] = try row.get("refresh_token_sealed") else {
            counters.tokenRefreshed(kind, .revoked)
            try changeStorageStatus(row, .accessRevoked, reason: "no refresh token", actor: actor)
            throw OAuthError.revoked("no refresh token")
        }
        let refreshToken = try SecretBox.openText(sealed, key: key, context: Self.context(id, "refresh_token"))
        do {
            let grant = try OAuthClient(provider: provider, retry: retry).refresh(refreshToken: refreshToken, client: http)
            counters.tokenRefreshed(kind, .ok)
            let changes = try db.write {
                try saveTokens(id: id, grant: grant, now: clock.now())
                try db.execute("UPDATE storage_accounts SET last_accessed_at = $1 WHERE user_id = $2 AND provider_account_id = $3",
                               [clock.now(), try row.get("user_id", as: Int64.self), try row.get("provider_account_id", as: String.self)])
                return try changeStorageStatus(row, .providerReachable, reason: nil, actor: actor)
            }
            return (grant.accessToken, changes)
        } catch let error as OAuthError {
            switch error {
            // Only the provider's call throws these: what follows it here is database work.
            case .revoked(let code):
                counters.tokenRefreshed(kind, .revoked)
                try changeStorageStatus(row, .accessRevoked, reason: "refresh refused: \(code)", actor: actor)
            case .temporary(let code):
                counters.tokenRefreshed(kind, .unavailable)
                try changeStorageStatus(row, .temporaryFailure, reason: "refresh failed: \(code)", actor: actor)
            case .refused(let status, let code):
                counters.tokenRefreshed(kind, .refused)
                // The account's state is not the provider's answer here (a wrong client secret,
                // say): nothing changes, and the operator reads why.
                Self.log.error("token refresh refused by the provider", metadata: ["oauth_account_id": "\(id)", "status": "\(status)", "error": "\(code)"])
            }
            throw error
        }
    }

    /// Applies `event` to every storage account behind this OAuth account, where the diagram
    /// allows; answers what it did, by storage account id.
    @discardableResult
    private func changeStorageStatus(_ oauthRow: Row, _ event: StorageAccountEvent, reason: String?,
                                     actor: AuditLog.Actor) throws -> [Int64: PortalManagementResult] {
        let store = StorageAccountStore(db: db, clock: clock, onStatusChange: onStatusChange)
        let ids = try db.query("SELECT id FROM storage_accounts WHERE user_id = $1 AND provider_account_id = $2 AND provider <> 'local'",
                               [try oauthRow.get("user_id", as: Int64.self), try oauthRow.get("provider_account_id", as: String.self)])
            .map { try $0.get("id", as: Int64.self) }
        var changes: [Int64: PortalManagementResult] = [:]
        for storageID in ids {
            do {
                changes[storageID] = try store.handleStatusChange(accountID: storageID, event: event, reason: reason, by: actor)
            } catch is StorageAccountTransitions.Refused {
                // Not every state takes every event (an INACTIVE account stays so on a hiccup).
            }
        }
        return changes
    }
}
