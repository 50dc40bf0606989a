import Database
import Integrations
import Spool

/// The seed's troubleshooting section as checks an operator runs (`intake diagnose`, the admin's
/// diagnostics pages): storage accounts and their states, missing storage accounts, OAuth grants,
/// portals and why each does or does not take uploads, files their account makes unavailable,
/// deliveries waiting or failed, quota and usage, stuck leases, reservations of dead processes.
/// Read-only, except what asking a provider about a grant records (a refused grant disconnects
/// the account, as any request would).
public struct StorageDiagnostics {
    let db: Database
    let clock: EpochClock
    let liveness: any ProcessLiveness

    /// A delivery whose next attempt is this far in the past has no runner taking it.
    public static let overdueSeconds: Int64 = 900

    public init(db: Database, clock: EpochClock, liveness: any ProcessLiveness = LocalProcesses()) {
        self.db = db
        self.clock = clock
        self.liveness = liveness
    }

    /// Asks the provider about one cloud account's grant; nil skips the grant check (offline).
    public typealias GrantCheck = (StorageAccount) -> HealthProbe

    // MARK: - Scopes

    /// Everything about one user, in the troubleshooting order. `counters` recomputes the usage
    /// counters from the owner's files (a read of every one of them: the command does, a page
    /// load does not).
    public func diagnose(user: User, grants: GrantCheck?, counters: Bool = true) throws -> Diagnosis {
        var diagnosis = Diagnosis(scope: "user \(user.email)")
        let accounts = try storageAccounts(userID: user.id)
        diagnosis.findings += accountFindings(accounts)
        diagnosis.findings += try missingAccountFindings(user: user)
        diagnosis.findings += grantFindings(accounts, grants)
        for (portal, _) in try PortalStore(db: db, clock: clock).list(userID: user.id) {
            diagnosis.findings.append(try portalFinding(portal, accounts: accounts))
        }
        diagnosis.findings += try unavailableFileFindings(userID: user.id, accounts: accounts)
        diagnosis.findings += try deliveryFindings(whereSQL: "user_id = $1", [user.id])
        diagnosis.findings += try usageFindings(userID: user.id, counters: counters)
        diagnosis.findings += try reservationFindings(userID: user.id)
        return diagnosis
    }

    /// One portal: its owner's accounts that matter to it, and whether and why it takes uploads.
    public func diagnose(portal: Portal, grants: GrantCheck?) throws -> Diagnosis {
        var diagnosis = Diagnosis(scope: "portal \(portal.slug)")
        let accounts = try storageAccounts(userID: portal.userID)
        let relevant = portal.storageAccountID.map { id in accounts.filter { $0.id == id } } ?? accounts
        diagnosis.findings += accountFindings(relevant, noneFound: portal.storageAccountID == nil ? nil : "The portal's storage account #\(portal.storageAccountID!) no longer exists.")
        diagnosis.findings += grantFindings(relevant, grants)
        diagnosis.findings.append(try portalFinding(portal, accounts: accounts))
        diagnosis.findings += try deliveryFindings(whereSQL: "portal_id = $1", [portal.id])
        diagnosis.findings += try usageFindings(userID: portal.userID)
        return diagnosis
    }

    /// One file: where it is, whether its owner can download it, and where its delivery stands.
    public func diagnose(fileID: Int64) throws -> Diagnosis? {
        guard let row = try db.queryOne("""
            SELECT f.id, f.file_name, f.status, f.size_bytes, f.storage_account_id, f.failure_reason, f.delivery_attempts,
                   f.next_attempt_at, f.lease_holder, f.lease_expires, p.slug, u.email
            FROM file_uploads f JOIN portals p ON p.id = f.portal_id JOIN users u ON u.id = f.user_id WHERE f.id = $1
            """, [fileID]) else { return nil }
        var diagnosis = Diagnosis(scope: "file \(fileID)")
        let name: String = try row.get("file_name"), status: String = try row.get("status"), slug: String = try row.get("slug")
        let subject = "file #\(fileID) \"\(name)\""
        diagnosis.findings.append(Diagnosis.Finding(check: "files", subject: subject, verdict: .ok,
                                                    found: "\(ByteSize(bytes: try row.get("size_bytes"))), uploaded through portal \(slug) of \(try row.get("email", as: String.self)); status \(status)."))
        let accountID: Int64? = try row.get("storage_account_id")
        let accounts = try db.query("SELECT * FROM storage_accounts WHERE id = $1", [accountID]).map(StorageAccount.init)
        if let accountID {
            diagnosis.findings += accountFindings(accounts, noneFound: "Its storage account #\(accountID) no longer exists.")
            if status == FileUploadStatus.uploaded.rawValue, let account = accounts.first, !account.status.canAccessFiles {
                diagnosis.findings.append(Diagnosis.Finding(
                    check: "files", subject: subject, verdict: .problem, found: "File unavailable: \(Self.describe(account)) is \(account.status.plainWords).",
                    cure: Self.cure(for: account)))
            }
        } else if status == FileUploadStatus.uploaded.rawValue {
            diagnosis.findings.append(Self.legacyFileFinding(subject: subject, count: 1))
        }
        switch FileUploadStatus(rawValue: status) {
        case .delivering?:
            let next: Int64? = try row.get("next_attempt_at"), attempts: Int64 = try row.get("delivery_attempts")
            let lease = Lease(db: db, clock: clock, liveness: liveness, storage: Deliveries.leaseStorage)
            let held = lease.isHeld(holder: try row.get("lease_holder"), expiresAt: try row.get("lease_expires"), now: clock.now())
            if !held, let next, next < clock.now() - Self.overdueSeconds {
                diagnosis.findings.append(Self.overdueFinding(subject: subject, count: 1))
            } else {
                diagnosis.findings.append(Diagnosis.Finding(check: "deliveries", subject: subject, verdict: .ok,
                                                            found: held ? "Being delivered now (attempt \(attempts + 1))." : "Waiting for delivery (\(attempts) attempt(s) so far)."))
            }
            if try row.get("lease_holder", as: String?.self) != nil && !held {
                diagnosis.findings.append(Self.staleLeaseFinding(subject: subject, count: 1))
            }
        case .failed?:
            diagnosis.findings.append(Diagnosis.Finding(
                check: "deliveries", subject: subject, verdict: .warning,
                found: "Delivery gave up: \(try row.get("failure_reason", as: String?.self) ?? "no reason recorded").",
                cure: "Fix what the reason names (usually the storage account), then the owner retries it from the Files page."))
        default: break
        }
        return diagnosis
    }

    /// `validatePortalCreationWithStorage` for each kind of storage, without creating anything:
    /// the account a new portal of that kind would bind to, or why none can.
    public func portalCreation(userID: Int64) throws -> [(provider: StorageProviderKind, binding: Result<Int64, StorageRules.BindingError>)] {
        let accounts = try storageAccounts(userID: userID).map { StorageRules.Account(id: $0.id, provider: $0.provider, status: $0.status) }
        return StorageProviderKind.allCases.map { ($0, StorageRules.portalBinding(provider: $0, selectedAccountID: nil, accounts: accounts)) }
    }

    // MARK: - Checks

    /// The user's storage accounts, oldest first: found through the (user, …) unique index and
    /// put in order here — a user has a handful.
    func storageAccounts(userID: Int64) throws -> [StorageAccount] {
        try db.query("SELECT * FROM storage_accounts WHERE user_id = $1", [userID]).map(StorageAccount.init).sorted { $0.id < $1.id }
    }

    static func describe(_ account: StorageAccount) -> String {
        "\(account.displayName), account #\(account.id)"
    }

    /// The seed's cures, by state.
    static func cure(for account: StorageAccount) -> String? {
        switch account.status {
        case .active: return nil
        case .inactive: return "Its owner paused it: Reactivate on the Storage page (portals bound to it come back with it)."
        case .disconnected:
            return account.provider == .local ? "Reactivate it on the Storage page." : "Its owner reconnects it: Connect \(account.provider.displayName) again on the Storage page; portals and files come back with it."
        case .error:
            return "Intake checks it again by itself (storage health checks); Check again on the Storage page tries at once. If the provider keeps refusing, reconnect it."
        }
    }

    func accountFindings(_ accounts: [StorageAccount], noneFound: String? = nil) -> [Diagnosis.Finding] {
        guard !accounts.isEmpty else {
            return [Diagnosis.Finding(check: "storage_accounts", subject: "storage accounts", verdict: .problem,
                                      found: noneFound ?? "No storage account: no portal can take uploads (\"No active storage account available\").",
                                      cure: "Connect storage on the Storage page (Google Drive, Dropbox or local disk).")]
        }
        var findings = accounts.map { account in
            let files = "\(account.uploadedFiles) file(s), \(ByteSize(bytes: account.uploadedBytes))"
            switch account.status {
            case .active:
                return Diagnosis.Finding(check: "storage_accounts", subject: Self.describe(account), verdict: .ok, found: "Connected; \(files).")
            case .inactive:
                return Diagnosis.Finding(check: "storage_accounts", subject: Self.describe(account), verdict: .warning,
                                         found: "Paused: portals bound to it take no uploads; its \(files) can still be downloaded.", cure: Self.cure(for: account))
            case .disconnected, .error:
                let why = account.lastError.map { " Last error: \($0)." } ?? ""
                return Diagnosis.Finding(check: "storage_accounts", subject: Self.describe(account), verdict: .problem,
                                         found: "\(account.status.plainWords.prefix(1).uppercased() + account.status.plainWords.dropFirst()): portals bound to it take no uploads and its \(files) are unavailable.\(why)",
                                         cure: Self.cure(for: account))
            }
        }
        if !accounts.contains(where: { $0.status == .active }) {
            findings.append(Diagnosis.Finding(check: "storage_accounts", subject: "storage accounts", verdict: .problem,
                                              found: "None is active: \"No active storage account available\" for every portal.",
                                              cure: "Reconnect or reactivate one of them on the Storage page."))
        }
        return findings
    }

    /// The seed's problem 4: an OAuth account holding storage access with no storage account.
    func missingAccountFindings(user: User) throws -> [Diagnosis.Finding] {
        try missingStorageAccounts(userID: user.id).map { missing in
            Diagnosis.Finding(check: "storage_accounts", subject: "\(missing.provider.displayName) sign-in \(missing.email ?? missing.providerAccountID)",
                              verdict: .problem, found: "Connected at the provider, but no storage account was created for it.",
                              cure: "Run `intake fix-accounts --user \(user.email)` (or the owner presses Check again on the Storage page).")
        }
    }

    /// OAuth accounts that hold storage access but have no storage account (all users with nil).
    public func missingStorageAccounts(userID: Int64?) throws -> [MissingStorageAccount] {
        let rows = try db.query("""
            SELECT o.id, o.user_id, o.provider, o.provider_account_id, o.email, o.scopes FROM oauth_accounts o
            WHERE (CAST($1 AS BIGINT) IS NULL OR o.user_id = $1) AND NOT EXISTS (
                SELECT 1 FROM storage_accounts s WHERE s.user_id = o.user_id AND s.provider_account_id = o.provider_account_id
                AND s.provider = CASE o.provider WHEN 'google' THEN 'google_drive' ELSE 'dropbox' END)
            ORDER BY o.id
            """, [userID])
        return try rows.compactMap { row in
            guard let kind = OAuthProvider.Kind(rawValue: try row.get("provider")),
                  StorageAccountManager.grantsStorage(kind, scopes: try row.get("scopes")) else { return nil }
            return MissingStorageAccount(oauthAccountID: try row.get("id"), userID: try row.get("user_id"), provider: StorageProviderKind(kind),
                                         providerAccountID: try row.get("provider_account_id"), email: try row.get("email"))
        }
    }

    public struct MissingStorageAccount: Sendable, Equatable, Codable {
        public let oauthAccountID: Int64
        public let userID: Int64
        public let provider: StorageProviderKind
        public let providerAccountID: String
        public let email: String?
    }

    func grantFindings(_ accounts: [StorageAccount], _ grants: GrantCheck?) -> [Diagnosis.Finding] {
        accounts.filter { $0.provider != .local && $0.status != .disconnected }.map { account in
            let subject = Self.describe(account)
            guard let grants else {
                return Diagnosis.Finding(check: "grants", subject: subject, verdict: .ok, found: "Grant not checked (offline).")
            }
            switch grants(account) {
            case .reachable:
                return Diagnosis.Finding(check: "grants", subject: subject, verdict: .ok, found: "The provider honours Intake's access (a token call succeeded).")
            case .refused(let why):
                return Diagnosis.Finding(check: "grants", subject: subject, verdict: .problem, found: "The provider refused Intake's access: \(why).",
                                         cure: "Its owner reconnects it: Connect \(account.provider.displayName) again on the Storage page.")
            case .unreachable(let why), .notChecked(let why):
                return Diagnosis.Finding(check: "grants", subject: subject, verdict: .warning, found: "The provider could not be asked: \(why).",
                                         cure: "Try again later; if it lasts, check the server's network, its OAuth settings and the provider's status page.")
            }
        }
    }

    /// `getPortalUploadAcceptance` for one portal, with the owner's room.
    func portalFinding(_ portal: Portal, accounts: [StorageAccount]) throws -> Diagnosis.Finding {
        let acceptance = try self.acceptance(of: portal, accounts: accounts)
        let subject = "portal \(portal.slug) (\(portal.name))"
        if acceptance.accepts {
            return Diagnosis.Finding(check: "portals", subject: subject, verdict: portal.storageAccountID == nil ? .warning : .ok,
                                     found: "Takes uploads. " + (acceptance.ownerMessage ?? "Files go to storage account #\(portal.storageAccountID.map(String.init) ?? "?")."),
                                     cure: portal.storageAccountID == nil ? "Bind it to an account: `intake migrate-accounts`, or choose its storage on the portal's edit page." : nil)
        }
        return Diagnosis.Finding(check: "portals", subject: subject, verdict: portal.active || portal.inactiveReason != nil ? .problem : .warning,
                                 found: "Does not take uploads (\"Portal cannot accept uploads\"): \(acceptance.ownerMessage ?? "no reason recorded")",
                                 cure: Self.portalCure(portal, acceptance: acceptance, accounts: accounts))
    }

    /// Whether a portal takes files now: its state, its owner's accounts and room. The web layer's
    /// portal pages and these checks share this one answer.
    public func acceptance(of portal: Portal, accounts: [StorageAccount]? = nil) throws -> StorageRules.Acceptance {
        let accounts = try accounts ?? storageAccounts(userID: portal.userID)
        let acceptance = StorageRules.acceptance(of: portal, accounts: accounts)
        if acceptance.accepts, let quota = try QuotaStore(db: db, clock: clock).quota(userID: portal.userID), quota.usedBytes >= quota.effectiveBytes {
            return StorageRules.storageFull
        }
        return acceptance
    }

    static func portalCure(_ portal: Portal, acceptance: StorageRules.Acceptance, accounts: [StorageAccount]) -> String {
        if acceptance == StorageRules.storageFull { return "The owner deletes files or buys more storage; an admin can raise the quota on the user's page." }
        if !portal.active && portal.inactiveReason == nil { return "The owner switched it off: they switch it on from the Portals page." }
        if let id = portal.storageAccountID, let account = accounts.first(where: { $0.id == id }), let cure = cure(for: account) { return cure }
        if portal.storageAccountID != nil && !accounts.contains(where: { $0.id == portal.storageAccountID }) {
            return "Choose another storage account on the portal's edit page."
        }
        return "Connect, reconnect or reactivate a storage account on the Storage page."
    }

    func unavailableFileFindings(userID: Int64, accounts: [StorageAccount]) throws -> [Diagnosis.Finding] {
        var findings: [Diagnosis.Finding] = accounts.filter { !$0.status.canAccessFiles && $0.uploadedFiles > 0 }.map { account in
            Diagnosis.Finding(check: "files", subject: Self.describe(account), verdict: .problem,
                              found: "\(account.uploadedFiles) file(s) (\(ByteSize(bytes: account.uploadedBytes))) unavailable (\"File unavailable\"): the account is \(account.status.plainWords).",
                              cure: Self.cure(for: account))
        }
        let legacy = try db.scalar("SELECT count(*) FROM file_uploads WHERE user_id = $1 AND storage_account_id IS NULL AND status = 'uploaded'",
                                   [userID], as: Int64.self) ?? 0
        if legacy > 0 { findings.append(Self.legacyFileFinding(subject: "files without a storage account", count: legacy)) }
        if findings.isEmpty {
            findings.append(Diagnosis.Finding(check: "files", subject: "stored files", verdict: .ok, found: "Every stored file is reachable through its storage account."))
        }
        return findings
    }

    static func legacyFileFinding(subject: String, count: Int64) -> Diagnosis.Finding {
        Diagnosis.Finding(check: "files", subject: subject, verdict: .warning,
                          found: "\(count) stored file(s) name no storage account (data from before the binding).",
                          cure: "Run `intake migrate-accounts` to bind them by the upload rules.")
    }

    static func overdueFinding(subject: String, count: Int64) -> Diagnosis.Finding {
        Diagnosis.Finding(check: "deliveries", subject: subject, verdict: .problem,
                          found: "\(count) file(s) waited over \(overdueSeconds / 60) minutes past their next delivery attempt with nobody delivering them.",
                          cure: "Check that `intake serve` runs (its workers deliver waiting files); see its log for delivery errors.")
    }

    static func staleLeaseFinding(subject: String, count: Int64) -> Diagnosis.Finding {
        Diagnosis.Finding(check: "leases", subject: subject, verdict: .warning,
                          found: "\(count) delivery lease(s) still name a process that is gone or whose time is up.",
                          cure: "Run `intake cleanup-zombies --apply` to release them (the next delivery pass would take them over anyway).")
    }

    /// The files waiting for delivery (matching `whereSQL`, at most `limit`), read once: how
    /// many, how many are overdue (no live lease, next attempt long past), and which still
    /// name a lease nobody holds (its process gone, or its time up).
    struct WaitingDeliveries {
        var waiting = 0
        var overdue = 0
        var staleLeases: [Int64] = []
    }

    func waitingDeliveries(whereSQL: String, _ arguments: [any DatabaseValueConvertible], limit: Int? = nil) throws -> WaitingDeliveries {
        let lease = Lease(db: db, clock: clock, liveness: liveness, storage: Deliveries.leaseStorage)
        let now = clock.now()
        var tally = WaitingDeliveries()
        let bound = limit.map { " LIMIT \($0)" } ?? ""
        for row in try db.query("""
            SELECT id, next_attempt_at, lease_holder, lease_expires FROM file_uploads WHERE \(whereSQL) AND status = 'delivering'\(bound)
            """, arguments) {
            tally.waiting += 1
            let holder: String? = try row.get("lease_holder")
            let held = lease.isHeld(holder: holder, expiresAt: try row.get("lease_expires"), now: now)
            if holder != nil && !held { tally.staleLeases.append(try row.get("id")) }
            if !held, let next = try row.get("next_attempt_at", as: Int64?.self), next < now - Self.overdueSeconds { tally.overdue += 1 }
        }
        return tally
    }

    /// Deliveries waiting (and overdue) and failed, and stale delivery leases, for the files
    /// matching `whereSQL`.
    func deliveryFindings(whereSQL: String, _ arguments: [any DatabaseValueConvertible]) throws -> [Diagnosis.Finding] {
        let tally = try waitingDeliveries(whereSQL: whereSQL, arguments)
        var findings: [Diagnosis.Finding] = []
        if tally.overdue > 0 { findings.append(Self.overdueFinding(subject: "deliveries", count: Int64(tally.overdue))) }
        let failed = try db.query("""
            SELECT count(*) AS n, max(failure_reason) AS reason FROM file_uploads WHERE \(whereSQL) AND status = 'failed'
            """, arguments).first
        let failedCount: Int64 = try failed?.get("n") ?? 0
        if failedCount > 0 {
            findings.append(Diagnosis.Finding(check: "deliveries", subject: "deliveries", verdict: .warning,
                                              found: "\(failedCount) file(s) could not be delivered; for example: \(try failed?.get("reason", as: String?.self) ?? "no reason recorded").",
                                              cure: "Fix the storage account the reason names; the owner then retries them from the Files page."))
        }
        if findings.isEmpty || (tally.waiting > 0 && tally.overdue == 0) {
            findings.append(Diagnosis.Finding(check: "deliveries", subject: "deliveries", verdict: .ok,
                                              found: tally.waiting == 0 ? "No file is waiting for delivery." : "\(tally.waiting) file(s) waiting for delivery, on schedule."))
        }
        if !tally.staleLeases.isEmpty { findings.append(Self.staleLeaseFinding(subject: "delivery leases", count: Int64(tally.staleLeases.count))) }
        return findings
    }

    /// Quota and usage, and the usage counters recomputed from the files (no provider is asked).
    func usageFindings(userID: Int64, counters recompute: Bool = true) throws -> [Diagnosis.Finding] {
        guard let quota = try QuotaStore(db: db, clock: clock).quota(userID: userID) else { return [] }
        let counters = recompute ? try Reconciliation.counterDisagreements(in: db, userID: userID) : []
        var findings = counters.map { counter in
            Diagnosis.Finding(check: "usage", subject: counter.counter.rawValue + " #\(counter.id)", verdict: .problem,
                              found: "The counter says \(counter.recorded), the files add up to \(counter.actual).",
                              cure: "Run `intake reconcile --user \(counter.owner) --repair` to set it to what the files add up to.")
        }
        let text = "\(ByteSize(bytes: quota.usedBytes)) used of \(ByteSize(bytes: quota.effectiveBytes))."
        if quota.usedBytes >= quota.effectiveBytes {
            findings.append(Diagnosis.Finding(check: "usage", subject: "quota", verdict: .problem, found: text + " Storage is full: portals refuse uploads.",
                                              cure: "The owner deletes files or buys storage; an admin can set an override on the user's page."))
        } else {
            findings.append(Diagnosis.Finding(check: "usage", subject: "quota", verdict: quota.isNear ? .warning : .ok, found: text,
                                              cure: quota.isNear ? "Nearly full: the owner may want to buy storage soon." : nil))
        }
        return findings
    }

    func reservationFindings(userID: Int64) throws -> [Diagnosis.Finding] {
        let stale = try ZombieCleanup(db: db, clock: clock, liveness: liveness).staleReservations(userID: userID)
        guard !stale.isEmpty else { return [] }
        let bytes = stale.reduce(0) { $0 + $1.bytes }
        return [Diagnosis.Finding(check: "reservations", subject: "quota reservations", verdict: .warning,
                                  found: "\(stale.count) reservation(s) holding \(ByteSize(bytes: bytes)) belong to requests that ended or whose process is gone.",
                                  cure: "Run `intake cleanup-zombies --apply` (the jobs pass also removes them when they expire).")]
    }
}

extension StorageAccountStatus {
    /// The state in plain words.
    public var plainWords: String {
        switch self {
        case .active: return "connected"
        case .inactive: return "paused"
        case .disconnected: return "disconnected"
        case .error: return "failing (the provider answered with errors)"
        }
    }
}
