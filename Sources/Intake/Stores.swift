import Database

/// Every store of the domain over one database connection, for one request thread or one job:
/// the only way the layers above read or write the database (SQL lives in the stores).
public struct Stores {
    public let db: Database
    public let clock: EpochClock
    /// Seals OAuth verifiers and tokens.
    let secretKey: [UInt8]
    let currency: Currency
    let sessionPolicy: SessionPolicy
    /// Hears every storage account status change once it is written (one log line each).
    let onStatusChange: ((StorageAccountStatusChange) -> Void)?

    public init(db: Database, clock: EpochClock, secretKey: [UInt8], currency: Currency, sessionPolicy: SessionPolicy = SessionPolicy(),
                onStatusChange: ((StorageAccountStatusChange) -> Void)? = nil) {
        self.db = db
        self.clock = clock
        self.secretKey = secretKey
        self.currency = currency
        self.sessionPolicy = sessionPolicy
        self.onStatusChange = onStatusChange
    }

    public var users: UserStore { UserStore(db: db, clock: clock) }
    public var sessions: SessionStore { SessionStore(db: db, clock: clock, policy: sessionPolicy) }
    public var apiTokens: APITokens { APITokens(db: db, clock: clock) }
    public var authenticator: Authenticator { Authenticator(db: db, clock: clock) }
    public var audit: AuditLog { AuditLog(db: db, clock: clock) }
    public var portals: PortalStore { PortalStore(db: db, clock: clock) }
    public var files: FileStore { FileStore(db: db, clock: clock) }
    public var dashboard: OwnerDashboard { OwnerDashboard(db: db, clock: clock) }
    public var analytics: StorageAnalytics { StorageAnalytics(db: db, clock: clock) }
    public var migrations: StorageMigrations { StorageMigrations(db: db, clock: clock) }
    public var storageAccounts: StorageAccountStore { StorageAccountStore(db: db, clock: clock, onStatusChange: onStatusChange) }
    public var storageAccountManager: StorageAccountManager { StorageAccountManager(db: db, clock: clock, onStatusChange: onStatusChange) }
    public var oauthStates: OAuthStates { OAuthStates(db: db, clock: clock, secretKey: secretKey) }
    public var oauthAccounts: OAuthAccounts { OAuthAccounts(db: db) }
    public var quotas: QuotaStore { QuotaStore(db: db, clock: clock) }
    public var reservations: QuotaReservations { QuotaReservations(db: db, clock: clock) }
    public var pricing: StoragePricingStore { StoragePricingStore(db: db, clock: clock, currency: currency) }
    public var tariffPlans: TariffPlanStore { TariffPlanStore(db: db, clock: clock) }
    public var ledger: BalanceLedger { BalanceLedger(db: db, clock: clock) }
    public var purchases: StoragePurchases { StoragePurchases(db: db, clock: clock, pricing: pricing) }
    public var idempotencyKeys: IdempotencyKeys { IdempotencyKeys(db: db, clock: clock) }
    public var notifications: UploadNotifications { UploadNotifications(db: db, clock: clock) }
    public var siteTotals: SiteTotals { SiteTotals(db: db) }

    /// Whether the database answers (for `/healthz`).
    public func databaseAnswers() -> Bool { (try? db.scalar("SELECT 1", as: Int.self)) == 1 }
}

/// The operator overview's figures.
public struct SiteTotals {
    let db: Database

    public struct Figures: Sendable {
        public let portals: Int
        public let files: Int64
        public let bytes: Int64
        public let delivering: Int64
        public let failedDeliveries: Int64
    }

    /// Read from the totals the schema's triggers keep, so the overview costs the same at any size.
    public func figures() throws -> Figures {
        let byStatus = Dictionary(uniqueKeysWithValues: try statusTotals().map { ($0.status, $0) })
        return Figures(portals: try db.scalar("SELECT n FROM site_counts WHERE name = 'portals'", as: Int.self) ?? 0,
                       files: byStatus[.uploaded]?.files ?? 0, bytes: byStatus[.uploaded]?.bytes ?? 0,
                       delivering: byStatus[.delivering]?.files ?? 0, failedDeliveries: byStatus[.failed]?.files ?? 0)
    }

    /// The files and bytes in one delivery state.
    public struct StatusTotal: Sendable, Equatable {
        public let status: FileUploadStatus
        public let files: Int64
        public let bytes: Int64
    }

    /// Every delivery state's files and bytes, zero where there are none: `file_totals`, one row
    /// per state kept by triggers in the transaction of each change, so this reads a handful of
    /// rows whatever the number of files (no `file_uploads` row is read).
    public func statusTotals() throws -> [StatusTotal] {
        var kept: [String: (files: Int64, bytes: Int64)] = [:]
        for row in try db.query("SELECT status, files, bytes FROM file_totals") {
            kept[try row.get("status")] = (try row.get("files"), try row.get("bytes"))
        }
        return FileUploadStatus.allCases.map { StatusTotal(status: $0, files: kept[$0.rawValue]?.files ?? 0, bytes: kept[$0.rawValue]?.bytes ?? 0) }
    }
}
