import Database
import Integrations
import Spool

/// A stored file as lists show it.
public struct FileRecord: Sendable, Equatable {
    public let id: Int64
    public let portalID: Int64
    public let portalName: String
    public let userID: Int64
    public let storageAccountID: Int64?
    public let storageStatus: StorageAccountStatus?
    public let provider: StorageProviderKind?
    public let providerFileID: String?
    public let fileName: String
    public let contentType: String?
    public let size: Int64
    public let sha256: String?
    public let clientName: String?
    public let clientEmail: String?
    public let status: String
    /// Why the last delivery attempt failed (while `delivering` or `failed`).
    public let failureReason: String?
    public let createdAt: Int64
    /// What the file's receipts are signed over (nil for files from before receipt secrets).
    public let receiptSecret: String?
}

/// Files of an owner: the filtered list (paged by id, newest first), and delete with cascade.
public struct FileStore {
    let db: Database
    let clock: EpochClock
    /// Which processes still run: a file whose deliverer died can be deleted at once.
    let liveness: any ProcessLiveness

    public init(db: Database, clock: EpochClock, liveness: any ProcessLiveness = LocalProcesses()) {
        self.db = db
        self.clock = clock
        self.liveness = liveness
    }

    public struct Filter: Sendable {
        public var portalID: Int64?
        public var client: String?
        public var from: Int64?
        public var to: Int64?
        public var status: String?
        public var accountID: Int64?
        public var search: String?
        public init() {}
    }

    static let select = """
        SELECT f.*, p.name AS portal_name, s.status AS storage_status, s.provider AS provider
        FROM file_uploads f JOIN portals p ON p.id = f.portal_id LEFT JOIN storage_accounts s ON s.id = f.storage_account_id
        """

    public func list(userID: Int64, filter: Filter, before: Int64?, limit: Int) throws -> (files: [FileRecord], next: Int64?) {
        var conditions = ["f.user_id = $1"]
        var args: [any DatabaseValueConvertible] = [userID]
        func add(_ sql: (Int) -> String, _ value: any DatabaseValueConvertible) {
            args.append(value)
            conditions.append(sql(args.count))
        }
        if let v = filter.portalID { add({ "f.portal_id = $\($0)" }, v) }
        if let v = filter.client, !v.isEmpty { add({ "(f.client_name LIKE $\($0) ESCAPE '\\' OR f.client_email LIKE $\($0) ESCAPE '\\')" }, LikePattern.prefix(v)) }
        if let v = filter.from { add({ "f.created_at >= $\($0)" }, v) }
        if let v = filter.to { add({ "f.created_at < $\($0)" }, v) }
        if let v = filter.status, !v.isEmpty { add({ "f.status = $\($0)" }, v) }
        if let v = filter.accountID { add({ "f.storage_account_id = $\($0)" }, v) }
        if let v = filter.search, !v.isEmpty { add({ "f.file_name LIKE $\($0) ESCAPE '\\'" }, LikePattern.containing(v)) }
        if let before { add({ "f.id < $\($0)" }, before) }
        args.append(limit + 1)
        var files = try db.query(Self.select + " WHERE " + conditions.joined(separator: " AND ") + " ORDER BY f.id DESC LIMIT $\(args.count)", args)
            .map(Self.record)
        var next: Int64?
        if files.count > limit {
            files.removeLast()
            next = files.last?.id
        }
        return (files, next)
    }

    public func find(id: Int64) throws -> FileRecord? {
        try db.queryOne(Self.select + " WHERE f.id = $1", [id]).map(Self.record)
    }

    /// The file a receipt token names, if the token is genuine for the file that has its id now.
    public func find(receipt token: String, key: [UInt8]) throws -> FileRecord? {
        guard let id = UploadReceipt.uploadID(token), let file = try find(id: id),
              UploadReceipt.isGenuine(token, uploadID: id, secret: file.receiptSecret, key: key) else { return nil }
        return file
    }

    /// The seed's cascade: the provider first, then the database (and the owner's usage). A file
    /// whose storage cannot be reached is kept, so nothing is lost silently.
    public func delete(id: Int64, provider: StorageProvider?, by actor: AuditLog.Actor) throws -> (deletedFromCloud: Bool, deletedFromDatabase: Bool) {
        guard let file = try find(id: id) else { return (false, false) }
        if file.status == FileUploadStatus.delivering.rawValue, try Lease(db: db, clock: clock, liveness: liveness, storage: Deliveries.leaseStorage).isHeld(id) {
            throw FileBusy()
        }
        var fromCloud = false
        if let provider, let fileID = file.providerFileID {
            try provider.delete(fileID: fileID)
            fromCloud = true
            if let accountID = file.storageAccountID { try StorageAccountStore(db: db, clock: clock).recordAccess(id: accountID) }
        }
        let removed = try removeRecord(id, actor: actor, action: "file_upload.delete",
                                       before: [("file_name", file.fileName), ("size", String(file.size)), ("deleted_from_cloud", String(fromCloud))])
        return (fromCloud, removed)
    }

    /// Forgets a recorded file: in one transaction its row goes, its size leaves the owner's
    /// usage (every recorded file counts, delivered or still waiting in its spool) and the audit
    /// entry says why; then its spool, if it still has one.
    /// Two removers of one file (a page and the enforcement job) remove, count and audit it once.
    @discardableResult
    func removeRecord(_ id: Int64, actor: AuditLog.Actor, action: String, before: [(String, String?)]? = nil, after: [(String, String?)]? = nil) throws -> Bool {
        let spool: String?? = try db.write {
            guard let row = try db.queryOne("SELECT user_id, size_bytes, spool_path FROM file_uploads WHERE id = $1", [id]),
                  try db.execute("DELETE FROM file_uploads WHERE id = $1", [id]) == 1 else { return nil }
            try db.execute("UPDATE users SET storage_used_bytes = CASE WHEN storage_used_bytes > $1 THEN storage_used_bytes - $1 ELSE 0 END WHERE id = $2",
                           [try row.get("size_bytes", as: Int64.self), try row.get("user_id", as: Int64.self)])
            try AuditLog(db: db, clock: clock).record(actor, action: action, entityType: "file_upload", entityID: String(id), before: before, after: after)
            return .some(try row.get("spool_path", as: String?.self))
        }
        guard let spool else { return false }
        if let spool { Spool.remove(spool) }
        return true
    }

    /// A file that a worker is delivering right now cannot be deleted under it.
    public struct FileBusy: Error {}

    static func record(_ row: Row) throws -> FileRecord {
        FileRecord(id: try row.get("id"), portalID: try row.get("portal_id"), portalName: try row.get("portal_name"), userID: try row.get("user_id"),
                   storageAccountID: try row.get("storage_account_id"),
                   storageStatus: (try row.get("storage_status", as: String?.self)).flatMap(StorageAccountStatus.init(rawValue:)),
                   provider: (try row.get("provider", as: String?.self)).flatMap(StorageProviderKind.init(rawValue:)),
                   providerFileID: try row.get("provider_file_id"), fileName: try row.get("file_name"), contentType: try row.get("content_type"),
                   size: try row.get("size_bytes"), sha256: try row.get("sha256"), clientName: try row.get("client_name"),
                   clientEmail: try row.get("client_email"), status: try row.get("status"), failureReason: try row.get("failure_reason"),
                   createdAt: try row.get("created_at"), receiptSecret: try row.get("receipt_secret"))
    }
}
