import Database
import Integrations

/// Compares the database with the storage providers, and on request puts right what disagrees
/// (issue 16): delivered files the provider no longer has, files in Intake's folders at the
/// provider that no upload refers to, and maintained counters that no longer match their files.
///
/// A report changes nothing, here or at the providers. A repair marks missing files
/// (`file_uploads.missing_since`: the row, its status and its usage stay, so lists say what
/// happened and the owner decides; a file found again is unmarked), moves orphans into the
/// quarantine folder beside Intake's (never deleting one: the owner may want it), and sets each
/// counter to what its files sum to at that moment. Every repair writes an audit entry.
///
/// Accounts that are DISCONNECTED or in ERROR are not checked (their files cannot be reached, which
/// says nothing about whether they exist); neither is an account whose provider cannot list it.
/// Both are reported with the reason.
public struct Reconciliation {
    let db: Database
    let clock: EpochClock
    let provider: (StorageAccount) throws -> StorageProvider

    public init(db: Database, clock: EpochClock, provider: @escaping (StorageAccount) throws -> StorageProvider) {
        self.db = db
        self.clock = clock
        self.provider = provider
    }

    /// What a run found, and in a repair what was done about each finding.
    public struct Report: Codable, Sendable, Equatable {
        /// Whether this is a repair's report (each finding says what was done) or a dry run's.
        public let repair: Bool
        /// Every storage account looked at, checked or not, by id.
        public let accounts: [AccountReport]
        /// Users and storage accounts whose counters disagree with their files.
        public let counters: [CounterDisagreement]
        /// Findings: missing and reappeared files, orphans (not those a running delivery may
        /// still record), counters off.
        public let found: Int
        /// Findings still as they were: all of them in a dry run; those a repair could not fix.
        public let unresolved: Int
        /// Accounts that could not be checked.
        public let unchecked: Int
        /// Every account checked and nothing left to put right.
        public let consistent: Bool

        init(repair: Bool, accounts: [AccountReport], counters: [CounterDisagreement]) {
            self.repair = repair
            self.accounts = accounts
            self.counters = counters
            var found = counters.count, resolved = counters.filter { $0.repairedTo != nil }.count
            for account in accounts {
                let files = account.missing + account.reappeared
                let orphans = account.orphans.filter { $0.deliveringUploadID == nil }
                found += files.count + orphans.count
                resolved += files.filter { $0.repaired == true }.count + orphans.filter { $0.quarantinedAs != nil }.count
            }
            self.found = found
            unresolved = found - resolved
            unchecked = accounts.filter { $0.notChecked != nil }.count
            consistent = unresolved == 0 && unchecked == 0
        }
    }

    /// One storage account's findings.
    public struct AccountReport: Codable, Sendable, Equatable {
        public let accountID: Int64
        public let userID: Int64
        /// The owner's e-mail address.
        public let owner: String
        /// `google_drive`, `dropbox` or `local`.
        public let provider: String
        /// ACTIVE, INACTIVE, DISCONNECTED or ERROR.
        public let status: String
        /// Why the account was not checked (its state, or what its provider answered); nil when it was.
        public var notChecked: String?
        /// Delivered files the provider no longer has, not marked so before.
        public var missing: [MissingFile] = []
        /// Files marked missing that the provider has again (restored from its bin).
        public var reappeared: [MissingFile] = []
        /// Files in Intake's folders at the provider that no upload refers to.
        public var orphans: [Orphan] = []
    }

    /// A delivered file the provider lacks (or, among `reappeared`, has again).
    public struct MissingFile: Codable, Sendable, Equatable {
        public let uploadID: Int64
        public let fileName: String
        public let size: Int64
        public let providerFileID: String
        public let providerPath: String?
        /// In a repair: whether the file was marked missing (unmarked, for a reappeared one).
        public var repaired: Bool?
        /// In a repair: why it was not.
        public var repairError: String?
    }

    /// A file at the provider that no upload refers to.
    public struct Orphan: Codable, Sendable, Equatable {
        public let file: ListedFile
        /// A delivery to the same storage, of a file of the same size, that has not finished: the
        /// orphan may be its file, stored a moment before its row says so (or before a crash
        /// that its next attempt recovers from). Left alone, and not counted as a finding.
        public let deliveringUploadID: Int64?
        /// In a repair: where the file is now (in the quarantine folder).
        public var quarantinedAs: String?
        /// In a repair: why it was not moved.
        public var repairError: String?
    }

    /// A maintained counter that its files do not add up to.
    public struct CounterDisagreement: Codable, Sendable, Equatable {
        public enum Counter: String, Codable, Sendable {
            /// A user's usage: the bytes of every recorded file of theirs (delivered, being
            /// delivered or failed: each counts from arrival until its record goes).
            case userStorageUsedBytes = "users.storage_used_bytes"
            /// A storage account's delivered files.
            case accountUploadedFiles = "storage_accounts.uploaded_files"
            /// A storage account's delivered bytes.
            case accountUploadedBytes = "storage_accounts.uploaded_bytes"
        }
        public let counter: Counter
        /// The user's id, or the storage account's.
        public let id: Int64
        /// The user's e-mail address (the account owner's, for an account's counter).
        public let owner: String
        /// What the counter says.
        public let recorded: Int64
        /// What the files add up to.
        public let actual: Int64
        /// In a repair: the value set, recomputed in the repair's transaction (files may have
        /// arrived or gone since the check).
        public var repairedTo: Int64?
    }

    // MARK: Runs

    /// What disagrees, for every storage account (of `userID`, when given) and every counter.
    /// Writes nothing and moves nothing.
    public func report(userID: Int64?) throws -> Report {
        let accounts = try accountsToCheck(userID: userID).map { try check($0).report }
        return Report(repair: false, accounts: accounts, counters: try counterDisagreements(userID: userID))
    }

    /// Checks as `report` does, then repairs what it found: missing files marked (files found
    /// again unmarked), orphans moved into the quarantine folder, counters set to what their
    /// files sum to. Each repair is audited as done by `actor`.
    public func repair(userID: Int64?, by actor: AuditLog.Actor) throws -> Report {
        var accounts: [AccountReport] = []
        for account in try accountsToCheck(userID: userID) {
            let checked = try check(account)
            var report = checked.report
            if let storage = checked.storage { try repairFiles(&report, account: account.account, storage: storage, by: actor) }
            accounts.append(report)
        }
        var counters = try counterDisagreements(userID: userID)
        for index in counters.indices { counters[index].repairedTo = try repairCounter(counters[index], by: actor) }
        return Report(repair: true, accounts: accounts, counters: counters)
    }

    /// Counters only (cheap, no provider calls): users and storage accounts whose counters
    /// disagree with their files, in one read of the database (so a file recorded meanwhile is
    /// seen by both the counter and the sum, or by neither).
    public func counterDisagreements(userID: Int64?) throws -> [CounterDisagreement] {
        try Self.counterDisagreements(in: db, userID: userID)
    }

    /// The same, for a caller that asks no provider (`intake diagnose`).
    public static func counterDisagreements(in db: Database, userID: Int64?) throws -> [CounterDisagreement] {
        try db.read {
            var users = "", accounts = ""
            var args: [any DatabaseValueConvertible] = []
            if let userID {
                args = [userID]
                users = "WHERE u.id = $1"
                accounts = "WHERE s.user_id = $1"
            }
            var found = try db.query("""
                SELECT * FROM (SELECT u.id, u.email, u.storage_used_bytes AS recorded,
                                      (SELECT coalesce(sum(f.size_bytes), 0) FROM file_uploads f WHERE f.user_id = u.id) AS actual
                               FROM users u \(users)) t
                WHERE recorded <> actual ORDER BY id
                """, args).map { row in
                CounterDisagreement(counter: .userStorageUsedBytes, id: try row.get("id"), owner: try row.get("email"),
                                    recorded: try row.get("recorded"), actual: try row.get("actual"))
            }
            for row in try db.query("""
                SELECT * FROM (SELECT s.id, u.email, s.uploaded_files, s.uploaded_bytes, \(Self.deliveredSums("s.id"))
                               FROM storage_accounts s JOIN users u ON u.id = s.user_id \(accounts)) t
                WHERE uploaded_files <> files OR uploaded_bytes <> bytes ORDER BY id
                """, args) {
                let id: Int64 = try row.get("id"), owner: String = try row.get("email")
                let (files, bytes): (Int64, Int64) = (try row.get("files"), try row.get("bytes"))
                let (recordedFiles, recordedBytes): (Int64, Int64) = (try row.get("uploaded_files"), try row.get("uploaded_bytes"))
                if recordedFiles != files {
                    found.append(CounterDisagreement(counter: .accountUploadedFiles, id: id, owner: owner, recorded: recordedFiles, actual: files))
                }
                if recordedBytes != bytes {
                    found.append(CounterDisagreement(counter: .accountUploadedBytes, id: id, owner: owner, recorded: recordedBytes, actual: bytes))
                }
            }
            return found
        }
    }

    /// The delivered files of the storage account `id` names and their bytes, as columns `files`
    /// and `bytes`: what the schema's triggers keep in `uploaded_files` and `uploaded_bytes`.
    static func deliveredSums(_ id: String) -> String {
        let delivered = "FROM file_uploads f WHERE f.storage_account_id = \(id) AND f.status = \(FileUploadStatus.uploaded.sql)"
        return "(SELECT count(*) \(delivered)) AS files, (SELECT coalesce(sum(f.size_bytes), 0) \(delivered)) AS bytes"
    }

    // MARK: Checking an account

    /// The storage accounts (of `userID`) and their owners' addresses, by id.
    func accountsToCheck(userID: Int64?) throws -> [(account: StorageAccount, owner: String)] {
        try db.query("""
            SELECT s.*, u.email AS owner_email FROM storage_accounts s JOIN users u ON u.id = s.user_id
            \(userID == nil ? "" : "WHERE s.user_id = $1") ORDER BY s.id
            """, userID.map { [$0] } ?? []).map { (try StorageAccount(row: $0), try $0.get("owner_email")) }
    }

    /// One account's findings, and its provider when it could be checked. Only the provider's
    /// failures end up in `notChecked`; the database's are thrown.
    func check(_ entry: (account: StorageAccount, owner: String)) throws -> (report: AccountReport, storage: StorageProvider?) {
        let account = entry.account
        var report = AccountReport(accountID: account.id, userID: account.userID, owner: entry.owner, provider: account.provider.rawValue,
                                   status: account.status.rawValue)
        guard account.status.canAccessFiles else {
            report.notChecked = "the account is \(account.status.rawValue)\(account.lastError.map { " (\($0))" } ?? ""): its files cannot be reached"
            return (report, nil)
        }
        do {
            let storage = try provider(account)
            let listed = try storage.listFiles()
            // The rows are read after the listing: a file stored while it ran is recorded by
            // now, or its row is still delivering (and its file is not called an orphan below).
            let present = Set(listed.map(\.fileID))
            for row in try db.query("""
                SELECT id, file_name, size_bytes, provider_file_id, provider_path, missing_since FROM file_uploads
                WHERE storage_account_id = $1 AND status = \(FileUploadStatus.uploaded.sql) AND provider_file_id IS NOT NULL ORDER BY id
                """, [account.id]) {
                let fileID: String = try row.get("provider_file_id")
                let marked = try row.get("missing_since", as: Int64?.self) != nil
                // Not in Intake's folders: moved elsewhere by the owner, or gone. Asked by id.
                let there = try present.contains(fileID) || storage.size(fileID: fileID) != nil
                guard there == marked else { continue }
                let file = MissingFile(uploadID: try row.get("id"), fileName: try row.get("file_name"), size: try row.get("size_bytes"),
                                       providerFileID: fileID, providerPath: try row.get("provider_path"))
                if there { report.reappeared.append(file) } else { report.missing.append(file) }
            }
            let sharing = Self.sharingAccounts(account)
            let referenced = Set(try db.query("""
                SELECT provider_file_id FROM file_uploads WHERE provider_file_id IS NOT NULL AND storage_account_id IN (\(sharing.sql))
                """, sharing.args).map { try $0.get("provider_file_id", as: String.self) })
                // Copies that storage migrations keep (old copies by choice, copies not yet bound).
                .union(try StorageMigrations(db: db, clock: clock).copiesKept(accountIDs: try db.query(
                    "SELECT id FROM storage_accounts WHERE id IN (\(sharing.sql))", sharing.args).map { try $0.get("id", as: Int64.self) }))
            var delivering: [Int64: Int64] = [:]
            for row in try db.query("""
                SELECT id, size_bytes FROM file_uploads WHERE status = \(FileUploadStatus.delivering.sql) AND storage_account_id IN (\(sharing.sql))
                ORDER BY id
                """, sharing.args) {
                let size: Int64 = try row.get("size_bytes")
                if delivering[size] == nil { delivering[size] = try row.get("id") }
            }
            report.orphans = listed.filter { !referenced.contains($0.fileID) }.map { file in
                Orphan(file: file, deliveringUploadID: file.size.flatMap { delivering[$0] })
            }
            return (report, storage)
        } catch let error as StorageProviderError {
            report.notChecked = "\(account.provider.displayName) could not be checked: \(error.message)"
            report.missing = []
            report.reappeared = []
            report.orphans = []
            return (report, nil)
        }
    }

    /// The storage accounts whose files share a folder with `account`'s: at a cloud provider,
    /// every account of the same provider account (two owners may connect one Drive; each one's
    /// files are the other's Intake folder's too); on local disk, the account alone (its folder
    /// is its own).
    static func sharingAccounts(_ account: StorageAccount) -> (sql: String, args: [any DatabaseValueConvertible]) {
        if account.provider == .local { return ("$1", [account.id]) }
        return ("SELECT id FROM storage_accounts WHERE provider = $1 AND provider_account_id = $2", [account.provider.rawValue, account.providerAccountID])
    }

    // MARK: Repairs

    /// Marks `report`'s missing files, unmarks its reappeared ones and quarantines its orphans,
    /// noting in `report` what became of each.
    func repairFiles(_ report: inout AccountReport, account: StorageAccount, storage: StorageProvider, by actor: AuditLog.Actor) throws {
        let audit = AuditLog(db: db, clock: clock)
        for index in report.missing.indices {
            let file = report.missing[index]
            let now = clock.now()
            let marked: Bool = try db.write {
                guard try db.execute("""
                    UPDATE file_uploads SET missing_since = $1, updated_at = $1
                    WHERE id = $2 AND provider_file_id = $3 AND status = \(FileUploadStatus.uploaded.sql) AND missing_since IS NULL
                    """, [now, file.uploadID, file.providerFileID]) == 1 else { return false }
                try audit.record(actor, action: "file_upload.missing_at_provider", entityType: "file_upload", entityID: String(file.uploadID),
                                 after: [("missing_since", String(now)), ("provider_file_id", file.providerFileID), ("provider_path", file.providerPath)])
                return true
            }
            report.missing[index].repaired = marked
            if !marked { report.missing[index].repairError = "the file changed since it was checked (delivered again, or deleted); left as it is" }
        }
        for index in report.reappeared.indices {
            let file = report.reappeared[index]
            let unmarked: Bool = try db.write {
                guard try db.execute("""
                    UPDATE file_uploads SET missing_since = NULL, updated_at = $1 WHERE id = $2 AND provider_file_id = $3 AND missing_since IS NOT NULL
                    """, [clock.now(), file.uploadID, file.providerFileID]) == 1 else { return false }
                try audit.record(actor, action: "file_upload.found_at_provider", entityType: "file_upload", entityID: String(file.uploadID),
                                 after: [("provider_file_id", file.providerFileID)])
                return true
            }
            report.reappeared[index].repaired = unmarked
            if !unmarked { report.reappeared[index].repairError = "the file changed since it was checked; left as it is" }
        }
        let sharing = Self.sharingAccounts(account)
        for index in report.orphans.indices where report.orphans[index].deliveringUploadID == nil {
            let file = report.orphans[index].file
            // Checked again just before the move: an upload recorded since the listing keeps its file.
            guard try db.scalar("""
                SELECT count(*) FROM file_uploads WHERE provider_file_id = $\(sharing.args.count + 1) AND storage_account_id IN (\(sharing.sql))
                """, sharing.args + [file.fileID], as: Int.self) == 0 else {
                report.orphans[index].repairError = "an upload refers to it now; left where it is"
                continue
            }
            do {
                let moved = try storage.quarantine(file)
                report.orphans[index].quarantinedAs = moved.path
                try audit.record(actor, action: "storage.orphan_quarantined", entityType: "storage_account", entityID: String(account.id),
                                 before: [("path", file.path), ("file_id", file.fileID)], after: [("path", moved.path), ("file_id", moved.fileID)])
            } catch let error as StorageProviderError {
                report.orphans[index].repairError = error.message
            }
        }
    }

    /// Sets the counter to what its files sum to now, in one transaction with the sum and the
    /// audit entry; returns the value set. A storage account's two counters are set together.
    func repairCounter(_ found: CounterDisagreement, by actor: AuditLog.Actor) throws -> Int64 {
        try db.write {
            let audit = AuditLog(db: db, clock: clock)
            switch found.counter {
            case .userStorageUsedBytes:
                guard let row = try db.queryOne("""
                    SELECT storage_used_bytes, (SELECT coalesce(sum(f.size_bytes), 0) FROM file_uploads f WHERE f.user_id = u.id) AS actual
                    FROM users u WHERE u.id = $1
                    """, [found.id]) else { return found.actual }
                let (recorded, actual): (Int64, Int64) = (try row.get("storage_used_bytes"), try row.get("actual"))
                if recorded != actual {
                    try db.execute("UPDATE users SET storage_used_bytes = $1 WHERE id = $2", [actual, found.id])
                    try audit.record(actor, action: "user.usage_recomputed", entityType: "user", entityID: String(found.id),
                                     before: [("storage_used_bytes", String(recorded))], after: [("storage_used_bytes", String(actual))])
                }
                return actual
            case .accountUploadedFiles, .accountUploadedBytes:
                guard let row = try db.queryOne("""
                    SELECT uploaded_files, uploaded_bytes, \(Self.deliveredSums("s.id")) FROM storage_accounts s WHERE s.id = $1
                    """, [found.id]) else { return found.actual }
                let (files, bytes): (Int64, Int64) = (try row.get("files"), try row.get("bytes"))
                let (recordedFiles, recordedBytes): (Int64, Int64) = (try row.get("uploaded_files"), try row.get("uploaded_bytes"))
                if recordedFiles != files || recordedBytes != bytes {
                    try db.execute("UPDATE storage_accounts SET uploaded_files = $1, uploaded_bytes = $2 WHERE id = $3", [files, bytes, found.id])
                    try audit.record(actor, action: "storage.counters_recomputed", entityType: "storage_account", entityID: String(found.id),
                                     before: [("uploaded_files", String(recordedFiles)), ("uploaded_bytes", String(recordedBytes))],
                                     after: [("uploaded_files", String(files)), ("uploaded_bytes", String(bytes))])
                }
                return found.counter == .accountUploadedFiles ? files : bytes
            }
        }
    }
}
