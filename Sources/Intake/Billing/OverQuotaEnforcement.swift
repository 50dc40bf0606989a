import Database
import Integrations

/// The pricing's over-quota policy, applied by the jobs runner. A user found over quota (after a
/// purchase expired, a plan lapsed, an override changed) is marked and mailed once; one back
/// within quota is unmarked. Under `block` nothing more happens: uploads are refused (the quota
/// check every upload makes) and what is stored stays. Under `delete_oldest`, once the grace
/// days have passed since the user was marked, their oldest delivered files are deleted (from
/// the provider first, then the database, audited, as the owner's own delete would) until they
/// are within quota: never a file younger than the grace period, never more than needed.
/// Every step reads the state again, so a rerun after a crash, or a second runner, deletes
/// nothing twice (a file already gone at the provider counts as deleted there).
public struct OverQuotaEnforcement {
    let db: Database
    let clock: EpochClock
    let pricing: StoragePricingStore
    let liveness: any ProcessLiveness
    /// The provider holding a storage account's files (the one uploads use).
    let provider: (StorageAccount) throws -> StorageProvider

    public init(db: Database, clock: EpochClock, pricing: StoragePricingStore, liveness: any ProcessLiveness,
                provider: @escaping (StorageAccount) throws -> StorageProvider) {
        self.db = db
        self.clock = clock
        self.pricing = pricing
        self.liveness = liveness
        self.provider = provider
    }

    public struct Report: Sendable, Equatable {
        public var marked = 0
        public var cleared = 0
        public var filesDeleted = 0
        public var bytesDeleted: Int64 = 0
        /// Files that could not be deleted this pass (their storage refused or was unreachable).
        public var filesKept = 0
        public init() {}
    }

    /// A stored file the policy may delete.
    public struct Candidate: Sendable, Equatable {
        public let id: Int64
        public let bytes: Int64
        public let createdAt: Int64
        public init(id: Int64, bytes: Int64, createdAt: Int64) {
            self.id = id
            self.bytes = bytes
            self.createdAt = createdAt
        }
    }

    /// Which files go: oldest first, none created after `notAfter`, stopping as soon as the ones
    /// chosen free `excess` bytes. Empty when nothing is over; all the eligible ones when even
    /// they do not free enough.
    public static func choose(_ files: [Candidate], excess: Int64, notAfter: Int64) -> [Candidate] {
        var chosen: [Candidate] = []
        var freed: Int64 = 0
        for file in files.sorted(by: { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }) where freed < excess {
            guard file.createdAt <= notAfter else { break }
            chosen.append(file)
            freed += file.bytes
        }
        return chosen
    }

    static let system = AuditLog.Actor(userID: nil, remoteAddress: "")

    @discardableResult
    public func run(limit: Int = 200) throws -> Report {
        let now = clock.now()
        let policy = try pricing.current().overQuota
        var report = Report()
        let audit = AuditLog(db: db, clock: clock), mail = MailOutbox(db: db, clock: clock)
        // Newly over: marked and told, once (the compare-and-set on over_quota_since).
        for row in try db.query("""
            SELECT id, email, storage_used_bytes, quota_bytes FROM users
            WHERE storage_used_bytes - quota_bytes > 0 AND over_quota_since IS NULL LIMIT $1
            """, [limit]) {
            let id: Int64 = try row.get("id")
            let used: Int64 = try row.get("storage_used_bytes"), quota: Int64 = try row.get("quota_bytes")
            try db.write {
                guard try db.execute("""
                    UPDATE users SET over_quota_since = $1, over_quota_notified_at = $1
                    WHERE id = $2 AND over_quota_since IS NULL AND storage_used_bytes - quota_bytes > 0
                    """, [now, id]) == 1 else { return }
                try audit.record(Self.system, action: "quota.exceeded", entityType: "user", entityID: String(id),
                                 after: [("used_bytes", String(used)), ("quota_bytes", String(quota)), ("policy", policy.code)])
                try mail.enqueue(to: try row.get("email"), subject: "Your storage is over its quota",
                                 body: Self.notice(used: used, quota: quota, policy: policy, since: now))
                report.marked += 1
            }
        }
        // Back within quota: unmarked.
        report.cleared = try db.execute("""
            UPDATE users SET over_quota_since = NULL, over_quota_notified_at = NULL
            WHERE over_quota_since IS NOT NULL AND storage_used_bytes - quota_bytes <= 0
            """)
        guard case .deleteOldest(let graceDays) = policy else { return report }
        let graceEnd = now - Int64(graceDays) * 86400
        for row in try db.query("""
            SELECT id FROM users WHERE over_quota_since IS NOT NULL AND over_quota_since <= $1 ORDER BY over_quota_since LIMIT $2
            """, [graceEnd, limit]) {
            let userID: Int64 = try row.get("id")
            let before = (report.filesDeleted, report.bytesDeleted)
            try deleteOldest(userID: userID, notAfter: graceEnd, report: &report)
            let (count, bytes) = (report.filesDeleted - before.0, report.bytesDeleted - before.1)
            if count > 0, let email = try db.scalar("SELECT email FROM users WHERE id = $1", [userID], as: String.self) {
                try mail.enqueue(to: email, subject: "Files deleted to bring your storage within its quota",
                                 body: "Your storage stayed over its quota for \(graceDays) day\(graceDays == 1 ? "" : "s"), so we deleted your \(count) oldest file\(count == 1 ? "" : "s") (\(ByteSize(bytes: bytes))) from their storage, as the over-quota policy says. Your files list and the audit log name them.")
            }
        }
        return report
    }

    /// What the user is told when first found over quota.
    static func notice(used: Int64, quota: Int64, policy: OverQuotaPolicy, since: Int64) -> String {
        let over = "You store \(ByteSize(bytes: used)) and your quota is \(ByteSize(bytes: quota)). Uploads to your portals are refused until you are within it again: delete files, or buy more storage on your storage page."
        guard let days = policy.graceDays else { return over + " Nothing you have stored is touched." }
        let date = CivilDate(epoch: since + Int64(days) * 86400).text
        return over + " If you are still over it on \(date) (in \(days) day\(days == 1 ? "" : "s")), your oldest files are deleted until you are within your quota; files younger than \(days) day\(days == 1 ? "" : "s") are never deleted."
    }

    /// One user's deletions, each file on its own: the excess is read again before each, so a
    /// file deleted meanwhile (by its owner, by another runner) is not made up for twice.
    private func deleteOldest(userID: Int64, notAfter: Int64, report: inout Report) throws {
        let files = FileStore(db: db, clock: clock, liveness: liveness)
        let storageAccounts = StorageAccountStore(db: db, clock: clock)
        var skipped: Set<Int64> = []
        while true {
            guard let excess = try db.scalar("SELECT storage_used_bytes - quota_bytes FROM users WHERE id = $1", [userID], as: Int64.self),
                  excess > 0 else { return }
            // Enough candidates to cover the excess, oldest first, by the (user_id, created_at) index.
            let candidates = try db.query("""
                SELECT id, size_bytes, created_at FROM file_uploads
                WHERE user_id = $1 AND status = 'uploaded' AND created_at <= $2 ORDER BY created_at, id LIMIT $3
                """, [userID, notAfter, 100 + skipped.count]).map {
                    Candidate(id: try $0.get("id"), bytes: try $0.get("size_bytes"), createdAt: try $0.get("created_at"))
                }.filter { !skipped.contains($0.id) }
            guard let next = Self.choose(candidates, excess: excess, notAfter: notAfter).first else { return }
            do {
                guard let file = try files.find(id: next.id) else { continue }
                var holder: StorageProvider?
                if file.providerFileID != nil, let accountID = file.storageAccountID {
                    guard file.storageStatus?.canAccessFiles == true, let account = try storageAccounts.find(id: accountID) else {
                        // Kept: deleting only the row would leave the file in storage, unaccounted.
                        skipped.insert(next.id)
                        report.filesKept += 1
                        continue
                    }
                    holder = try provider(account)
                }
                if try files.delete(id: file.id, provider: holder, by: Self.system).deletedFromDatabase {
                    report.filesDeleted += 1
                    report.bytesDeleted += file.size
                }
            } catch is StorageProviderError {
                skipped.insert(next.id)
                report.filesKept += 1
            } catch is FileStore.FileBusy {
                skipped.insert(next.id)
                report.filesKept += 1
            }
        }
    }
}
