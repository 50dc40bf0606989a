import Database
import Integrations
import Spool

/// The seed's `cleanup-zombie-accounts`, widened to everything left behind that nobody will use:
/// OAuth accounts that give no storage and back no storage account, revoked grants whose dead
/// tokens are still kept, expired sessions and OAuth states, quota reservations of requests that
/// ended or whose process is gone, and delivery leases still naming a process that is gone.
/// `report()` lists them; `apply(by:)` removes them, each OAuth change with an audit entry.
public struct ZombieCleanup {
    let db: Database
    let clock: EpochClock
    let liveness: any ProcessLiveness

    public init(db: Database, clock: EpochClock, liveness: any ProcessLiveness = LocalProcesses()) {
        self.db = db
        self.clock = clock
        self.liveness = liveness
    }

    public struct OAuthAccountRef: Codable, Sendable, Equatable {
        public let id: Int64
        public let userEmail: String
        public let provider: String
        public let email: String?
    }

    public struct ReservationRef: Codable, Sendable, Equatable {
        public let id: Int64
        public let userID: Int64
        public let bytes: Int64
    }

    public struct Report: Codable, Sendable, Equatable {
        /// Sign-in-only OAuth accounts with no storage account: nothing uses them.
        public var unusedOAuthAccounts: [OAuthAccountRef] = []
        /// Disconnected storage whose OAuth account still keeps the provider's refused tokens.
        public var revokedGrantsKept: [OAuthAccountRef] = []
        public var expiredSessions = 0
        public var expiredOAuthStates = 0
        public var staleReservations: [ReservationRef] = []
        /// Files whose delivery lease names a process that is gone, or whose time is up.
        public var staleDeliveryLeases: [Int64] = []

        public var isEmpty: Bool {
            unusedOAuthAccounts.isEmpty && revokedGrantsKept.isEmpty && expiredSessions == 0 && expiredOAuthStates == 0
                && staleReservations.isEmpty && staleDeliveryLeases.isEmpty
        }
    }

    /// What would be removed; changes nothing.
    public func report() throws -> Report {
        let now = clock.now()
        var report = Report()
        report.unusedOAuthAccounts = try oauthAccounts(where: """
            NOT EXISTS (SELECT 1 FROM storage_accounts s WHERE s.user_id = o.user_id AND s.provider_account_id = o.provider_account_id
                        AND s.provider = CASE o.provider WHEN 'google' THEN 'google_drive' ELSE 'dropbox' END)
            """).filter { !$0.grantsStorage }.map(\.ref)
        report.revokedGrantsKept = try oauthAccounts(where: """
            (o.refresh_token_sealed IS NOT NULL OR o.access_token_sealed IS NOT NULL) AND EXISTS (
                SELECT 1 FROM storage_accounts s WHERE s.user_id = o.user_id AND s.provider_account_id = o.provider_account_id
                AND s.provider = CASE o.provider WHEN 'google' THEN 'google_drive' ELSE 'dropbox' END AND s.status = 'DISCONNECTED')
            """).map(\.ref)
        report.expiredSessions = try db.scalar("SELECT count(*) FROM sessions WHERE expires_at <= $1", [now], as: Int.self) ?? 0
        report.expiredOAuthStates = try db.scalar("SELECT count(*) FROM oauth_states WHERE expires_at <= $1", [now], as: Int.self) ?? 0
        report.staleReservations = try staleReservations(userID: nil)
        report.staleDeliveryLeases = try StorageDiagnostics(db: db, clock: clock, liveness: liveness).waitingDeliveries(whereSQL: "1 = 1", []).staleLeases
        return report
    }

    /// Removes what `report()` lists, in one transaction; returns what was removed.
    public func apply(by actor: AuditLog.Actor) throws -> Report {
        try db.write {
            let found = try report()
            let now = clock.now()
            let audit = AuditLog(db: db, clock: clock)
            for account in found.unusedOAuthAccounts {
                try db.execute("DELETE FROM oauth_accounts WHERE id = $1", [account.id])
                try audit.record(actor, action: "oauth_account.removed", entityType: "oauth_account", entityID: String(account.id),
                                 before: [("provider", account.provider), ("email", account.email), ("owner", account.userEmail)],
                                 after: [("reason", "signs in to nothing and backs no storage account")])
            }
            for account in found.revokedGrantsKept {
                try db.execute("""
                    UPDATE oauth_accounts SET access_token_sealed = NULL, refresh_token_sealed = NULL, access_token_expires_at = NULL,
                        updated_at = $1 WHERE id = $2
                    """, [now, account.id])
                try audit.record(actor, action: "oauth_account.tokens_forgotten", entityType: "oauth_account", entityID: String(account.id),
                                 before: [("tokens", "kept")], after: [("tokens", "forgotten: the storage account is disconnected; reconnecting asks anew")])
            }
            try db.execute("DELETE FROM sessions WHERE expires_at <= $1", [now])
            try db.execute("DELETE FROM oauth_states WHERE expires_at <= $1", [now])
            for reservation in found.staleReservations {
                try db.execute("DELETE FROM upload_reservations WHERE id = $1", [reservation.id])
            }
            for fileID in found.staleDeliveryLeases {
                try db.execute("UPDATE file_uploads SET lease_holder = NULL, lease_expires = NULL WHERE id = $1 AND status = 'delivering'", [fileID])
            }
            return found
        }
    }

    /// Reservations that expired, or whose holding process is gone (all users with nil).
    public func staleReservations(userID: Int64?) throws -> [ReservationRef] {
        let lease = Lease(db: db, clock: clock, liveness: liveness, storage: QuotaReservations.leaseStorage)
        let now = clock.now()
        return try db.query("SELECT id, user_id, bytes, holder, expires_at FROM upload_reservations WHERE CAST($1 AS BIGINT) IS NULL OR user_id = $1 ORDER BY id", [userID])
            .filter { row in
                let expires: Int64 = try row.get("expires_at")
                guard expires > now else { return true }
                guard let holder = try row.get("holder", as: String?.self) else { return false }
                return !lease.isHeld(holder: holder, expiresAt: expires, now: now)
            }
            .map { ReservationRef(id: try $0.get("id"), userID: try $0.get("user_id"), bytes: try $0.get("bytes")) }
    }

    private struct Found {
        let ref: OAuthAccountRef
        let grantsStorage: Bool
    }

    private func oauthAccounts(where condition: String) throws -> [Found] {
        try db.query("""
            SELECT o.id, o.provider, o.email, o.scopes, u.email AS user_email FROM oauth_accounts o JOIN users u ON u.id = o.user_id
            WHERE \(condition) ORDER BY o.id
            """).map { row in
            let provider: String = try row.get("provider")
            let grants = OAuthProvider.Kind(rawValue: provider).map { StorageAccountManager.grantsStorage($0, scopes: (try? row.get("scopes")) ?? "") } ?? false
            return Found(ref: OAuthAccountRef(id: try row.get("id"), userEmail: try row.get("user_email"), provider: provider, email: try row.get("email")),
                         grantsStorage: grants)
        }
    }
}
