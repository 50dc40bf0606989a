import Curl
import Database
import Foundation
import Integrations
import Spool

/// The background jobs `intake serve` runs every few seconds (and `intake jobs run` runs once):
/// mail delivery from the outbox, the storage accounts' health checks, and removal of what
/// expired (sessions, quota reservations, OAuth states, leases, resumable uploads left alone and
/// their spool files, failed deliveries past their retention, spool files nothing refers to).
/// One runner per database at a time, by a lease, so several hosts sharing a database do not
/// duplicate the work.
public struct Jobs {
    let db: Database
    let clock: EpochClock
    let liveness: any ProcessLiveness
    let holder: LeaseHolder
    let configuration: Configuration
    /// The provider holding a storage account's files, for the over-quota policy's deletions.
    let provider: (StorageAccount) throws -> StorageProvider
    /// Asks a storage account's provider whether it answers, for the health checks (none: they do
    /// not run).
    let storageHealthCheck: StorageHealthChecks.Check?
    /// Hears of the storage account status changes the jobs make (the runner logs them).
    let onStatusChange: ((StorageAccountStatusChange) -> Void)?
    /// Hears of each job's run, for `/metrics`.
    let counters: any OperationCounters
    /// Opens webhook endpoints' sealed signing secrets.
    let secretKey: [UInt8]
    /// Resolves webhook hosts (the system resolver; tests pass their own).
    let resolve: (String) throws -> [NetworkAddress]

    /// Every job a pass runs, in its order (`storage_health` only where a health check is wired):
    /// the names of `job_runs` rows and of the metrics' `job` label.
    public static let names = ["sessions", "reservations", "purchase_expiry", "plan_renewals", "over_quota", "usage_snapshots", "idempotency_keys",
                               "oauth_states", "resumable_uploads", "failed_deliveries", "orphan_spools", "storage_health", "webhooks", "digests", "mail",
                               "planner_statistics"]

    public static let leaseSeconds: Int64 = 60
    /// The leadership lease: one row of `job_leases`, named `jobs`.
    static let lease = Lease.Storage(table: "job_leases", key: "name", holder: "holder", expires: "expires_at", ownRow: true)

    /// `holder` leads in this process's name; a runner that rebuilds its `Jobs` after a failure
    /// passes the same one, so it keeps its leadership. By default, a holder of its own.
    public init(db: Database, clock: EpochClock, liveness: any ProcessLiveness = LocalProcesses(), holder: LeaseHolder? = nil,
                configuration: Configuration, provider: @escaping (StorageAccount) throws -> StorageProvider,
                storageHealthCheck: StorageHealthChecks.Check? = nil, onStatusChange: ((StorageAccountStatusChange) -> Void)? = nil,
                counters: any OperationCounters = .none, secretKey: [UInt8] = [],
                resolve: @escaping (String) throws -> [NetworkAddress] = NetworkAddress.resolve) {
        self.db = db
        self.secretKey = secretKey
        self.resolve = resolve
        self.provider = provider
        self.storageHealthCheck = storageHealthCheck
        self.onStatusChange = onStatusChange
        self.counters = counters
        self.clock = clock
        self.liveness = liveness
        self.holder = holder ?? LeaseHolder(of: liveness)
        self.configuration = configuration
    }

    public struct Report: Sendable, Equatable {
        public var leader = false
        public var mailSent = 0
        public var sessionsRemoved = 0
        public var reservationsRemoved = 0
        public var resumableUploadsRemoved = 0
        public var failedDeliveriesRemoved = 0
        public var orphanSpoolsRemoved = 0
        public var digestsSent = 0
        public var purchasesExpired = 0
        /// Users given today's usage snapshot (0 once they all have it).
        public var usageSnapshots = 0
        public var renewals = PlanRenewals.Report()
        public var enforcement = OverQuotaEnforcement.Report()
        public var storageHealth = StorageHealthChecks.Report()
        public var webhooks = WebhookSender.Report()
        /// Jobs that failed this pass, by name, with why; the others still ran.
        public var failures: [(job: String, error: String)] = []

        public static func == (a: Report, b: Report) -> Bool {
            a.leader == b.leader && a.mailSent == b.mailSent && a.sessionsRemoved == b.sessionsRemoved && a.reservationsRemoved == b.reservationsRemoved
                && a.resumableUploadsRemoved == b.resumableUploadsRemoved && a.failedDeliveriesRemoved == b.failedDeliveriesRemoved
                && a.orphanSpoolsRemoved == b.orphanSpoolsRemoved && a.digestsSent == b.digestsSent
                && a.storageHealth == b.storageHealth && a.failures.map(\.job) == b.failures.map(\.job)
        }
    }

    /// Who runs the jobs on `db` now (`host:pid:token`): the `intake serve` using it, or an
    /// `intake jobs run` in progress; nil when no live process holds the lease.
    public static func runner(db: Database, clock: EpochClock, liveness: any ProcessLiveness = LocalProcesses()) throws -> String? {
        try Lease(db: db, clock: clock, liveness: liveness, storage: lease).holder(of: "jobs")
    }

    /// Takes (or renews) the lease; false when another live runner holds it.
    func lead() throws -> Bool {
        try Lease(db: db, clock: clock, liveness: liveness, storage: Self.lease).acquire("jobs", for: holder, seconds: Self.leaseSeconds)
    }

    /// One pass of every job. Each job runs on its own: one that fails is reported (and logged
    /// by the caller) without keeping the others from running.
    /// `webhooks` sends the webhook outbox (none: it waits for a runner that has one).
    public func runOnce(mail transport: (any MailTransport)?, webhooks http: (any HTTPTransport)? = nil) throws -> Report {
        var report = Report()
        guard try lead() else { return report }
        report.leader = true
        var outcomes: [(job: String, error: String?, milliseconds: Int64)] = []
        let stopwatch = ContinuousClock()
        func run(_ job: String, _ body: () throws -> Void) {
            let started = stopwatch.now
            var failure: String?
            do { try body() } catch {
                failure = "\(error)"
                report.failures.append((job, "\(error)"))
            }
            let elapsed = started.duration(to: stopwatch.now).components
            outcomes.append((job, failure, elapsed.seconds * 1000 + elapsed.attoseconds / 1_000_000_000_000_000))
            counters.jobRan(job, failed: failure != nil)
        }
        run("sessions") { report.sessionsRemoved = try SessionStore(db: db, clock: clock).deleteExpired() }
        run("reservations") { report.reservationsRemoved = try QuotaReservations(db: db, clock: clock, liveness: liveness).removeExpired() }
        let pricing = StoragePricingStore(db: db, clock: clock, currency: configuration.currency)
        run("purchase_expiry") { report.purchasesExpired = try StoragePurchases(db: db, clock: clock, pricing: pricing).expireDue().expired }
        run("plan_renewals") { report.renewals = try PlanRenewals(db: db, clock: clock, pricing: pricing).renewDue() }
        run("over_quota") {
            report.enforcement = try OverQuotaEnforcement(db: db, clock: clock, pricing: pricing, liveness: liveness, provider: provider).run()
        }
        run("usage_snapshots") { report.usageSnapshots = try UsageSnapshots(db: db, clock: clock).takeDaily() }
        run("idempotency_keys") { try IdempotencyKeys(db: db, clock: clock).removeExpired() }
        run("oauth_states") { try db.execute("DELETE FROM oauth_states WHERE expires_at <= $1", [clock.now()]) }
        // Housekeeping only: nothing here delivers or scans, so no scanner is needed.
        let uploads = UploadEnvironment(db: db, clock: clock, secretKey: [], spoolDirectory: configuration.spoolDirectory, scanner: nil,
                                        liveness: liveness, counters: counters, provider: provider)
        run("resumable_uploads") { report.resumableUploadsRemoved = try TusUploads(env: uploads, lifetime: configuration.tusLifetimeSeconds).removeExpired() }
        run("failed_deliveries") { report.failedDeliveriesRemoved = try Deliveries(env: uploads).removeFailed(olderThan: configuration.failedRetentionSeconds) }
        run("orphan_spools") { report.orphanSpoolsRemoved = try Deliveries(env: uploads).removeOrphanSpools() }
        if let storageHealthCheck {
            // Before the mail job, so an incident's mail goes out in the same pass.
            run("storage_health") {
                report.storageHealth = try StorageHealthChecks(db: db, clock: clock, storagePageURL: configuration.baseURL + "/dashboard/settings",
                                                               onStatusChange: onStatusChange, check: storageHealthCheck).runDue()
            }
        }
        if let http {
            // Before the mail job, so the mail about an endpoint switched off goes out in the same pass.
            run("webhooks") {
                let sender = WebhookSender(db: db, clock: clock, secretKey: secretKey, http: http, allowPrivate: configuration.webhooksAllowPrivate,
                                           resolve: resolve)
                report.webhooks = try sender.sendDue()
                report.webhooks.endpointsDisabled = try sender.disableFailing(dashboardURL: configuration.baseURL + "/dashboard/webhooks")
                try sender.removeOld()
            }
        }
        run("digests") { report.digestsSent = try UploadNotifications(db: db, clock: clock).sendDueDigests() }
        run("mail") { try sendMail(transport, report: &report) }
        run("planner_statistics") { try db.updatePlannerStatistics() }
        do {
            try JobRuns(db: db, clock: clock).record(outcomes)
        } catch {
            report.failures.append(("job_runs", "\(error)"))
        }
        return report
    }

    private func sendMail(_ transport: (any MailTransport)?, report: inout Report) throws {
        if let url = configuration.smtpURL, let transport {
            let from = configuration.mailFrom
            let address = from.split(separator: "<").last.map { String($0.prefix { $0 != ">" }) } ?? from
            let domain = address.split(separator: "@").last.map(String.init) ?? "localhost"
            report.mailSent = try MailOutbox(db: db, clock: clock).deliverDue { mail in
                try transport.sendMail(url: url, from: address, to: [mail.to],
                                  message: MailOutbox.format(mail, from: from, date: Date(timeIntervalSince1970: TimeInterval(clock.now())), domain: domain),
                                  username: configuration.smtpUsername, password: configuration.smtpPassword)
            }
        }
    }
}
