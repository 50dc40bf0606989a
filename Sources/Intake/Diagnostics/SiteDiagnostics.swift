import Database
import Spool

/// The whole site at a glance for the admin's diagnostics overview (the seed's `/debug-all`):
/// storage accounts by state, portals that take no uploads and why, deliveries failed or
/// overdue, stale leases and reservations, and the background jobs' last runs. Each list is
/// bounded, so the page costs the same on a large site.
public struct SiteDiagnostics {
    let db: Database
    let clock: EpochClock
    let liveness: any ProcessLiveness

    /// How many rows each list shows at most.
    public static let listLimit = 50
    /// How many waiting deliveries the overview looks at; beyond, it says "at least".
    public static let countLimit = 10_000

    public init(db: Database, clock: EpochClock, liveness: any ProcessLiveness = LocalProcesses()) {
        self.db = db
        self.clock = clock
        self.liveness = liveness
    }

    public struct StalledPortal: Sendable {
        public let portal: Portal
        public let ownerEmail: String
        public let why: String
        public let cure: String
    }

    public struct FailedDelivery: Sendable {
        public let fileID: Int64
        public let fileName: String
        public let ownerEmail: String
        public let reason: String?
        public let at: Int64
    }

    public struct Overview: Sendable {
        public var accountsByState: [(status: StorageAccountStatus, count: Int)] = []
        public var stalledPortals: [StalledPortal] = []
        /// Portals their owners switched off (not a fault).
        public var portalsSwitchedOff = 0
        public var failedDeliveries: Int64 = 0
        public var recentFailures: [FailedDelivery] = []
        public var waitingDeliveries = 0
        public var overdueDeliveries = 0
        public var staleLeases = 0
        public var staleReservations = 0
        public var jobs: [JobRuns.Run] = []
    }

    public func overview() throws -> Overview {
        var overview = Overview()
        var byState: [String: Int] = [:]
        for row in try db.query("SELECT status, count(*) AS n FROM storage_accounts GROUP BY status") {
            byState[try row.get("status")] = try row.get("n")
        }
        overview.accountsByState = StorageAccountStatus.allCases.map { ($0, byState[$0.rawValue] ?? 0) }
        overview.portalsSwitchedOff = try db.scalar("SELECT count(*) FROM portals WHERE active = 0 AND inactive_reason IS NULL", as: Int.self) ?? 0
        overview.stalledPortals = try stalledPortals()
        overview.failedDeliveries = try db.scalar("SELECT files FROM file_totals WHERE status = 'failed'", as: Int64.self) ?? 0
        overview.recentFailures = try db.query("""
            SELECT f.id, f.file_name, f.failure_reason, f.updated_at, u.email FROM file_uploads f JOIN users u ON u.id = f.user_id
            WHERE f.status = 'failed' ORDER BY f.updated_at DESC LIMIT \(Self.listLimit)
            """).map { row in
            FailedDelivery(fileID: try row.get("id"), fileName: try row.get("file_name"), ownerEmail: try row.get("email"),
                           reason: try row.get("failure_reason"), at: try row.get("updated_at"))
        }
        // At most `countLimit` waiting files are looked at: during an outage there may be many more.
        let waiting = try StorageDiagnostics(db: db, clock: clock, liveness: liveness).waitingDeliveries(whereSQL: "1 = 1", [], limit: Self.countLimit)
        overview.waitingDeliveries = waiting.waiting
        overview.overdueDeliveries = waiting.overdue
        overview.staleLeases = waiting.staleLeases.count
        overview.staleReservations = try ZombieCleanup(db: db, clock: clock, liveness: liveness).staleReservations(userID: nil).count
        overview.jobs = try JobRuns(db: db, clock: clock).all()
        return overview
    }

    /// Portals that should take uploads but do not: switched off by the system, bound to an
    /// account that is not active (or gone), without an account while the owner has no active
    /// one, or whose owner's storage is full — the rules' refusals, in SQL, so the limit counts
    /// only stalled portals. Newest change first.
    public func stalledPortals(ownerID: Int64? = nil) throws -> [StalledPortal] {
        let rows = try db.query("""
            SELECT p.*, u.email AS owner_email FROM portals p JOIN users u ON u.id = p.user_id
            LEFT JOIN storage_accounts s ON s.id = p.storage_account_id
            WHERE (CAST($1 AS BIGINT) IS NULL OR p.user_id = $1)
              AND ((p.active = 0 AND p.inactive_reason IS NOT NULL)
                   OR (p.active = 1 AND (u.storage_used_bytes >= u.quota_bytes
                       OR (p.storage_account_id IS NOT NULL AND (s.id IS NULL OR s.status <> 'ACTIVE'))
                       OR (p.storage_account_id IS NULL AND NOT EXISTS (
                           SELECT 1 FROM storage_accounts a WHERE a.user_id = p.user_id AND a.status = 'ACTIVE')))))
            ORDER BY p.updated_at DESC, p.id DESC LIMIT \(Self.listLimit)
            """, [ownerID])
        let diagnostics = StorageDiagnostics(db: db, clock: clock, liveness: liveness)
        var accountsByOwner: [Int64: [StorageAccount]] = [:]
        return try rows.compactMap { row in
            let portal = try Portal(row: row)
            let accounts = try accountsByOwner[portal.userID] ?? diagnostics.storageAccounts(userID: portal.userID)
            accountsByOwner[portal.userID] = accounts
            let acceptance = try diagnostics.acceptance(of: portal, accounts: accounts)
            guard !acceptance.accepts else { return nil }
            return StalledPortal(portal: portal, ownerEmail: try row.get("owner_email"), why: acceptance.ownerMessage ?? "no reason recorded",
                                 cure: StorageDiagnostics.portalCure(portal, acceptance: acceptance, accounts: accounts))
        }
    }
}
