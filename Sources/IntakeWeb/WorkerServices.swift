import Curl
import Database
import Intake
import Integrations
import Logging
import Templates

/// What one accept thread serves with, as the executable wired it: the configuration, the shared
/// template library, this thread's own database connection and the parts that reach outside
/// (providers, tokens, scanner). Confined to that thread, like the connection.
public final class WorkerServices {
    public let configuration: Configuration
    public let database: Database
    public let templates: TemplateLibrary
    public let logger: Logger
    public let clock: EpochClock
    /// The key that signs flash cookies (and, later, seals secrets at rest).
    public let secretKey: [UInt8]
    public let sessionPolicy: SessionPolicy
    let parts: Parts
    /// The counters `/metrics` reports, shared by the process's threads (and, through the
    /// supervisor's file, by every process of `intake serve`).
    public let metrics: SiteMetrics

    /// What the executable wires for this thread (`Wiring` in IntakeCommand): the HTTP client,
    /// each storage account's provider, the token refresher, the storage health check and the scanner. Without them (a
    /// test of pages only) nothing reaches a provider.
    public struct Parts {
        public var http: () throws -> CurlClient
        public var storageProvider: (StorageAccount) throws -> StorageProvider
        public var accessTokens: () throws -> AccessTokens
        public var healthCheck: StorageHealthChecks.Check
        public var scanner: ClamdScanner?

        public init(http: @escaping () throws -> CurlClient, storageProvider: @escaping (StorageAccount) throws -> StorageProvider,
                    accessTokens: @escaping () throws -> AccessTokens,
                    healthCheck: @escaping StorageHealthChecks.Check = { _, _ in .notChecked("no health check is wired") }, scanner: ClamdScanner?) {
            self.http = http
            self.storageProvider = storageProvider
            self.accessTokens = accessTokens
            self.healthCheck = healthCheck
            self.scanner = scanner
        }

        /// Nothing wired: every provider call fails plainly.
        public static var none: Parts {
            Parts(http: { throw StorageProviderError("no HTTP client is wired", transient: false) },
                  storageProvider: { _ in throw StorageProviderError("no storage provider is wired", transient: false) },
                  accessTokens: { throw StorageProviderError("no token refresher is wired", transient: false) }, scanner: nil)
        }
    }

    public init(configuration: Configuration, database: Database, templates: TemplateLibrary, logger: Logger,
                clock: EpochClock = SystemClock(), secretKey: [UInt8], sessionPolicy: SessionPolicy = SessionPolicy(), parts: Parts = .none,
                metrics: SiteMetrics? = nil) {
        self.configuration = configuration
        self.database = database
        self.templates = templates
        self.logger = logger
        self.clock = clock
        self.secretKey = secretKey
        self.sessionPolicy = sessionPolicy
        self.parts = parts
        // Without the executable's (a test of pages), counters of this process alone.
        self.metrics = metrics ?? .unshared(layout: Application.metricsLayout(debug: configuration.debugRoutes))
    }

    /// The domain's stores over this thread's connection; storage account changes are logged.
    /// Made once: every request reads it at least once (the session), and each store is a view
    /// over the same connection and clock.
    public private(set) lazy var stores = Stores(db: database, clock: clock, secretKey: secretKey, currency: configuration.currency,
                                                  sessionPolicy: sessionPolicy, onStatusChange: storageStatusLog)

    /// This thread's HTTP client (libcurl), kept for connection reuse.
    public func curl() throws -> CurlClient { try parts.http() }

    /// The upload pipeline's parts for this thread: the stores' connection, the spool, the
    /// scanner and the providers the executable wired.
    public func uploadEnvironment() -> UploadEnvironment {
        UploadEnvironment(db: database, clock: clock, secretKey: secretKey, spoolDirectory: configuration.spoolDirectory,
                          scanner: parts.scanner, deliveryWindow: configuration.deliveryWindowSeconds, counters: metrics, provider: parts.storageProvider)
    }

    /// The provider holding a storage account's files, for uploads, downloads and deletes.
    public func storageProvider(for account: StorageAccount) throws -> StorageProvider { try parts.storageProvider(account) }

    /// Access tokens; each refresher holds the account's refresh lease under its own name.
    public func accessTokens() throws -> AccessTokens { try parts.accessTokens() }

    /// The storage health checks over this thread's connection and provider check.
    public var storageHealthChecks: StorageHealthChecks {
        StorageHealthChecks(db: database, clock: clock, storagePageURL: configuration.baseURL + "/dashboard/settings",
                            onStatusChange: storageStatusLog, check: parts.healthCheck)
    }

    /// One log line per storage account status change, beside its audit entry: the account, the
    /// states before and after, the event and the reason (Intake's words and providers' error
    /// codes, never a token), and what it did to the account's portals.
    public var storageStatusLog: (StorageAccountStatusChange) -> Void { Self.statusLog(logger) }

    /// The status-change log line, for `logger`.
    public static func statusLog(_ logger: Logger) -> (StorageAccountStatusChange) -> Void {
        { change in
            logger.notice("storage account status changed", metadata: [
                "storage_account_id": "\(change.accountID)", "provider": "\(change.provider.rawValue)",
                "from": "\(change.result.from.rawValue)", "to": "\(change.result.to.rawValue)", "event": "\(change.event.rawValue)",
                "reason": "\(change.reason ?? "-")", "portals_deactivated": "\(change.result.deactivatedPortals)",
                "portals_reactivated": "\(change.result.reactivatedPortals)",
            ])
        }
    }
}
