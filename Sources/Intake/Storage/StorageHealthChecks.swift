import Database

/// What one look at a storage account's provider found: the answer of the check that
/// `StorageHealthChecks` is given (for cloud accounts `ProviderHealthProbe`; for a local disk, its
/// folder).
public enum HealthProbe: Sendable, Equatable {
    /// The provider answered: the grant holds and the storage can be reached.
    case reachable
    /// A failure thought temporary (a network error, a 5xx, a 429): looked at again later.
    case unreachable(String)
    /// The provider refused the grant (`invalid_grant`, revoked), or Intake holds none: only the
    /// owner's reconnect brings the account back.
    case refused(String)
    /// Not asked, for a reason that says nothing of the account (the provider is not configured on
    /// this server, it refused this server's client): nothing changes.
    case notChecked(String)
}

/// The storage account health checks (issue 16): the seed's "ERROR → auto-retry succeeds →
/// ACTIVE". A background pass checks every account in ERROR on a backoff (a minute after it
/// entered ERROR, then doubling with each failed check, at most an hour apart), and every ACTIVE
/// cloud account neither used nor checked for a day, with a cheap read-only call to its provider.
/// What is found moves the account only through `StorageAccountStore.handleStatusChange` (which
/// audits it and switches its portals): reachable brings ERROR back to ACTIVE with the portals
/// switched off automatically; a temporary failure keeps (or puts) it in ERROR; a refused grant
/// makes it DISCONNECTED. The owner is mailed once per incident and state reached (ERROR, then
/// DISCONNECTED if it comes to that), in the transaction that records it, and once more when the
/// checks bring the account back; an incident closes when the account is ACTIVE again, however
/// that came about, so a later one is mailed again.
///
/// The schedule lives in `storage_accounts` (migration 26): `health_next_check_at` (NULL: not to
/// be checked), `health_failures`, `health_checked_at`, `health_mailed_status` (what the open
/// incident's last mail reported) and `health_mailed_at`. Every status change restarts it
/// (`firstCheck(entering:provider:now:)`, called by `handleStatusChange`).
public struct StorageHealthChecks {
    /// Asks an account's provider (the actor is who the check is for, for the audit entries a
    /// token refresh may write). Whatever it throws counts as `.notChecked`.
    public typealias Check = (StorageAccount, AuditLog.Actor) throws -> HealthProbe

    let db: Database
    let clock: EpochClock
    let check: Check
    let storagePageURL: String?
    let onStatusChange: ((StorageAccountStatusChange) -> Void)?

    /// The first retry of an account in ERROR, this long after it entered ERROR.
    public static let firstRetrySeconds: Int64 = 60
    /// Retries never wait longer than this.
    public static let maxRetrySeconds: Int64 = 3600
    /// An ACTIVE cloud account is checked once neither used nor checked for this long.
    public static let idleSeconds: Int64 = 86400
    /// A check that could not be made is tried again this much later.
    public static let notCheckedRetrySeconds: Int64 = 3600
    /// Who the background pass acts as in the audit log.
    static let system = AuditLog.Actor(userID: nil, remoteAddress: "")

    /// `storagePageURL` is where the owner's mail sends them to reconnect (the Storage page);
    /// `onStatusChange` hears of the status changes the checks make (the jobs log them).
    public init(db: Database, clock: EpochClock, storagePageURL: String? = nil,
                onStatusChange: ((StorageAccountStatusChange) -> Void)? = nil, check: @escaping Check) {
        self.db = db
        self.clock = clock
        self.check = check
        self.storagePageURL = storagePageURL
        self.onStatusChange = onStatusChange
    }

    /// How long after `failures` consecutive failures (the one that put the account in ERROR
    /// counts as the first) the next check comes: 1 minute, 2, 4 … at most an hour.
    public static func retryDelay(afterFailures failures: Int) -> Int64 {
        let doublings = max(0, failures - 1)
        return doublings >= 16 ? maxRetrySeconds : min(firstRetrySeconds << doublings, maxRetrySeconds)
    }

    /// When an account that has just entered `status` is first checked: ERROR a minute on, an
    /// ACTIVE cloud account a day on; never one paused, disconnected, or an active local disk.
    public static func firstCheck(entering status: StorageAccountStatus, provider: StorageProviderKind, now: Int64) -> Int64? {
        switch status {
        case .error: return now + retryDelay(afterFailures: 1)
        case .active: return provider == .local ? nil : now + idleSeconds
        case .inactive, .disconnected: return nil
        }
    }

    /// What a pass did.
    public struct Report: Sendable, Equatable {
        /// Accounts whose provider was asked.
        public var checked = 0
        /// Accounts in ERROR that are ACTIVE again.
        public var recovered = 0
        /// Accounts left in (or put in) ERROR.
        public var failed = 0
        /// Accounts whose grant was refused: DISCONNECTED.
        public var disconnected = 0
        /// Mails queued to owners.
        public var mailed = 0
        /// Checks that could not be made (not configured here, an error of Intake's own).
        public var notChecked = 0

        public init() {}
    }

    /// What one check came to.
    public enum Outcome: Sendable, Equatable, CustomStringConvertible {
        /// An ACTIVE account whose provider answered.
        case healthy
        /// An account in ERROR whose provider answered: ACTIVE again, its portals back on.
        case recovered
        /// The provider could not be reached: the account is (or stays) in ERROR.
        case stillFailing(String)
        /// The provider refused the grant: DISCONNECTED until its owner reconnects it.
        case disconnected(String)
        /// Nothing was asked, or nothing could be made of the answer.
        case notChecked(String)

        public var description: String {
            switch self {
            case .healthy: return "The provider answered: the account works."
            case .recovered: return "The provider answered again: the account is active and its portals are back on."
            case .stillFailing(let why): return "The provider could not be reached (\(why)). The account stays in error and is checked again later."
            case .disconnected(let why): return "The provider refused access (\(why)). The account is disconnected until its owner reconnects it."
            case .notChecked(let why): return "Not checked: \(why)."
            }
        }
    }

    /// An account's place in the schedule, for the diagnostics page.
    public struct Schedule: Sendable, Equatable {
        /// When it is next checked (nil: it is not, in its state).
        public let nextCheckAt: Int64?
        /// Consecutive failures: the one that put it in ERROR, then each failed check.
        public let failures: Int
        /// When its provider was last asked by these checks.
        public let lastCheckedAt: Int64?
        /// When its owner was last mailed of an incident (kept after the incident closes).
        public let incidentMailedAt: Int64?
    }

    /// The account's schedule, or nil when there is no such account.
    public func schedule(accountID: Int64) throws -> Schedule? {
        try db.queryOne("""
            SELECT health_next_check_at, health_failures, health_checked_at, health_mailed_at FROM storage_accounts WHERE id = $1
            """, [accountID]).map {
            Schedule(nextCheckAt: try $0.get("health_next_check_at"), failures: try $0.get("health_failures"),
                     lastCheckedAt: try $0.get("health_checked_at"), incidentMailedAt: try $0.get("health_mailed_at"))
        }
    }

    /// Checks the accounts that are due, the longest waiting first, at most `limit` of them. A
    /// due ACTIVE account used within the day is not asked: its use showed it works, and it is
    /// looked at again a day after that use.
    /// At most `limit` accounts, and no more once `budgetSeconds` have passed (the rest wait for
    /// the next pass), so a provider outage never keeps the jobs pass — and its mail — waiting.
    public func runDue(limit: Int = 100, budgetSeconds: Int64 = 20) throws -> Report {
        let now = clock.now()
        // Served by storage_accounts_health_due, in its order: only due rows are read.
        let due = try db.query("""
            SELECT * FROM storage_accounts WHERE health_next_check_at <= $1 ORDER BY health_next_check_at LIMIT $2
            """, [now, limit]).map(Snapshot.init)
        var report = Report()
        for snapshot in due {
            if clock.now() - now >= budgetSeconds { break }
            let account = snapshot.account
            switch (account.status, account.provider) {
            case (.error, _):
                break
            case (.active, .googleDrive), (.active, .dropbox):
                if let used = snapshot.lastAccessedAt, used > now - Self.idleSeconds {
                    try db.execute("UPDATE storage_accounts SET health_next_check_at = $1 WHERE id = $2 AND status = 'ACTIVE'",
                                   [used + Self.idleSeconds, account.id])
                    continue
                }
            default:
                // Nothing to check in this state (a schedule left from before): dropped.
                try db.execute("UPDATE storage_accounts SET health_next_check_at = NULL WHERE id = $1 AND status = $2",
                               [account.id, account.status.rawValue])
                continue
            }
            let (outcome, mails) = try check(snapshot, by: Self.system)
            report.mailed += mails
            switch outcome {
            case .healthy: report.checked += 1
            case .recovered: report.checked += 1; report.recovered += 1
            case .stillFailing: report.checked += 1; report.failed += 1
            case .disconnected: report.checked += 1; report.disconnected += 1
            case .notChecked: report.notChecked += 1
            }
        }
        return report
    }

    /// The admin's "check now": checks one account at once regardless of backoff, with the same
    /// consequences as a scheduled check (its state, the owner's mail, the next check). A paused
    /// or disconnected account is not asked: neither state is left by the provider's answer alone.
    public func checkNow(accountID: Int64, by actor: AuditLog.Actor) throws -> Outcome {
        guard let snapshot = try snapshot(accountID) else { throw ValidationError("", "There is no such storage account.") }
        switch snapshot.account.status {
        case .inactive: return .notChecked("its owner paused it")
        case .disconnected: return .notChecked("it is disconnected, and only its owner's reconnect brings it back")
        case .active, .error: return try check(snapshot, by: actor).outcome
        }
    }

    /// A storage account row with its health columns, as read before a check.
    struct Snapshot {
        let account: StorageAccount
        let lastAccessedAt: Int64?
        let lastCheckedAt: Int64?
        let failures: Int
        let mailedStatus: StorageAccountStatus?

        init(row: Row) throws {
            account = try StorageAccount(row: row)
            lastAccessedAt = try row.get("last_accessed_at")
            lastCheckedAt = try row.get("health_checked_at")
            failures = try row.get("health_failures")
            mailedStatus = try row.get("health_mailed_status", as: String?.self).flatMap(StorageAccountStatus.init(rawValue:))
        }
    }

    private func snapshot(_ id: Int64) throws -> Snapshot? {
        try db.queryOne("SELECT * FROM storage_accounts WHERE id = $1", [id]).map(Snapshot.init)
    }

    /// Asks the provider (outside any transaction: it is network I/O), then in one transaction
    /// moves the account by the answer, schedules the next check and queues the owner's mail.
    /// A token refresh during the check may already have moved the account (`AccessTokens`
    /// does, in its own transaction); the moves here then find it there and change nothing.
    private func check(_ before: Snapshot, by actor: AuditLog.Actor) throws -> (outcome: Outcome, mails: Int) {
        let probe: HealthProbe
        do { probe = try check(before.account, actor) } catch { probe = .notChecked("\(error)") }
        let id = before.account.id
        return try db.write {
            let now = clock.now()
            guard let current = try snapshot(id) else { return (.notChecked("the account is gone"), 0) }
            let store = StorageAccountStore(db: db, clock: clock, onStatusChange: onStatusChange)
            func apply(_ event: StorageAccountEvent, _ reason: String?) throws {
                do {
                    try store.handleStatusChange(accountID: id, event: event, reason: reason, by: actor)
                } catch is StorageAccountTransitions.Refused {
                    // Its owner paused or disconnected it meanwhile: that stands.
                }
            }
            switch probe {
            case .reachable where current.account.status == .error: try apply(.providerReachable, nil)
            case .unreachable(let why) where current.account.status != .disconnected: try apply(.temporaryFailure, why)
            case .refused(let why): try apply(.accessRevoked, why)
            default: break
            }
            let after = try snapshot(id)!
            let status = after.account.status

            // A check that could not be made tells nothing: no mail, and the last check stays the last.
            var asked = true
            if case .notChecked = probe { asked = false }
            var failures = after.failures
            let next: Int64?
            switch (probe, status) {
            case (.notChecked, .active), (.notChecked, .error):
                next = now + Self.notCheckedRetrySeconds
            case (_, .error):
                // Entering ERROR in this check counted its failure already.
                if before.account.status == .error { failures += 1 }
                next = now + Self.retryDelay(afterFailures: failures)
            case (_, .active):
                failures = 0
                next = Self.firstCheck(entering: .active, provider: after.account.provider, now: now)
            default:
                next = nil
            }
            try db.execute("UPDATE storage_accounts SET health_checked_at = $1, health_failures = $2, health_next_check_at = $3 WHERE id = $4",
                           [asked ? now : after.lastCheckedAt, failures, next, id])

            var mails = 0
            if asked && (status == .error || status == .disconnected) && after.mailedStatus != status {
                try mailIncident(after.account, portals: try autoDeactivatedPortals(id), reason: after.account.lastError)
                try db.execute("UPDATE storage_accounts SET health_mailed_status = $1, health_mailed_at = $2 WHERE id = $3", [status.rawValue, now, id])
                mails += 1
            } else if asked && status == .active && before.account.status != .active && before.mailedStatus != nil {
                try mailRecovery(after.account)
                mails += 1
            }

            let outcome: Outcome
            switch (probe, status) {
            case (.notChecked(let why), _): outcome = .notChecked(why)
            case (_, .active): outcome = before.account.status == .active ? .healthy : .recovered
            case (_, .error): outcome = .stillFailing(Self.reason(probe) ?? after.account.lastError ?? "unknown")
            case (_, .disconnected): outcome = .disconnected(Self.reason(probe) ?? after.account.lastError ?? "unknown")
            case (_, .inactive): outcome = .notChecked("its owner paused it meanwhile")
            }
            return (outcome, mails)
        }
    }

    private static func reason(_ probe: HealthProbe) -> String? {
        switch probe {
        case .unreachable(let why), .refused(let why), .notChecked(let why): return why
        case .reachable: return nil
        }
    }

    private func autoDeactivatedPortals(_ accountID: Int64) throws -> Int {
        try db.scalar("SELECT count(*) FROM portals WHERE storage_account_id = $1 AND active = 0 AND auto_deactivated = 1",
                      [accountID], as: Int.self) ?? 0
    }

    private func owner(_ account: StorageAccount) throws -> String? {
        try db.scalar("SELECT email FROM users WHERE id = $1", [account.userID], as: String.self)
    }

    private var storagePage: String { storagePageURL.map { "the Storage page (\($0))" } ?? "the Storage page" }

    /// The incident mail: what happened, in plain words, and what to do.
    private func mailIncident(_ account: StorageAccount, portals: Int, reason: String?) throws {
        guard let to = try owner(account) else { return }
        let name = account.provider.displayName
        let which = account.email.map { "\(name) storage (\($0))" } ?? "\(name) storage"
        let portalsOff = portals == 0 ? "" : portals == 1
            ? " The portal that uploads to it is switched off, so your clients cannot send files through it for now."
            : " The \(portals) portals that upload to it are switched off, so your clients cannot send files through them for now."
        let details = reason.map { "\n\nWhat Intake was told: \($0)" } ?? ""
        let subject: String, body: String
        if account.status == .disconnected {
            subject = "Reconnect your \(name) storage"
            body = """
                \(name) no longer gives Intake access to your \(which).\(portalsOff) Files stored there cannot be opened from Intake until access is back.

                Intake cannot fix this on its own. Open \(storagePage) and choose Reconnect to give access again; your portals come back on when you do.\(details)
                """
        } else {
            subject = "Your \(name) storage cannot be reached"
            body = """
                Intake cannot reach your \(which) at the moment.\(portalsOff) Files stored there cannot be opened from Intake while this lasts.

                Intake keeps trying on its own and switches everything back on as soon as \(name) answers again; you will get a mail when it does. If it goes on for long, open \(storagePage) and choose Check again, or Reconnect.\(details)
                """
        }
        try MailOutbox(db: db, clock: clock).enqueue(to: to, subject: subject, body: body)
    }

    /// The "back to normal" mail, after an incident the owner was mailed about.
    private func mailRecovery(_ account: StorageAccount) throws {
        guard let to = try owner(account) else { return }
        let name = account.provider.displayName
        let which = account.email.map { "\(name) storage (\($0))" } ?? "\(name) storage"
        try MailOutbox(db: db, clock: clock).enqueue(to: to, subject: "Your \(name) storage is working again", body: """
            Intake can reach your \(which) again. Its portals that were switched off because of the problem take uploads again, and its files can be opened as before. There is nothing you need to do.
            """)
    }
}
