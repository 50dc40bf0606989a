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
    /// What the client wrote with the upload (nil: nothing).
    public let clientMessage: String?
    public let status: String
    /// Why the last delivery attempt failed (while `delivering` or `failed`).
    public let failureReason: String?
    public let createdAt: Int64
    /// What the file's receipts are signed over (nil for files from before receipt secrets).
    public let receiptSecret: String?
    /// When reconciliation found the delivered file gone from its provider (nil: not found missing).
    public let missingSince: Int64?
}

/// Files of an owner: the filtered list (paged by id, newest first), and delete with cascade.
public struct FileStore {
    let db: Database
    let clock: EpochClock
    /// Which processes still run: a file whose deliverer died can be deleted at once.
    let liveness: any ProcessLiveness
    /// How many of the newest files (as the other filters give them) a file-name search reads in
    /// order before it asks the trigram index: a text in more than one name in 80 of them fills
    /// a page there, in a few milliseconds; one in fewer has few matches for the index to find.
    /// 0: the index at once.
    var searchWindow = 4_000
    /// Up to how many names the trigram index offers it is asked at once (each is read to test
    /// its name and date: a few microseconds). -1: never at once.
    var searchCandidates = 2_000

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

    /// The owner's files matching `filter`, newest first, `limit` to a page, and the next page's
    /// cursor. One index yields the rows in order, so a page costs the same however many files
    /// the owner has: the portal's, the storage account's or the status's index when that filter
    /// is set, the owner's otherwise. The text filters are looked up first (then a page costs as
    /// much as the matches, not as the files): a client's name or address by prefix in the
    /// owner's client indexes. A file name's text of three characters or more goes through the
    /// owner's trigram index when that offers at most `searchCandidates` names (a rare text);
    /// a commoner one is looked for among the newest `searchWindow` files the other filters give,
    /// read in order, where it fills a page; only when they hold less than a page of matches does
    /// the index find them all.
    /// The cursor's value is the creation time.
    public func list(userID: Int64, filter: Filter, after cursor: PageCursor?, limit: Int) throws -> (files: [FileRecord], next: PageCursor?) {
        let search = FileSearch(filter, userID: userID, db.dialect)
        let ordered: ListIndex = (filter.client?.isEmpty == false) ? .client : filter.portalID != nil ? .portal
            : filter.accountID != nil ? .account : (filter.status?.isEmpty == false) ? .status : .owner
        var files: [FileRecord]
        if let match = search.match, ordered != .client, searchWindow > 0,
           try db.scalar(search.candidates(cap: searchCandidates + 1), [match], as: Int.self) ?? 0 > searchCandidates {
            let window = pageQuery(userID: userID, filter: filter, cursor: cursor, driver: ordered, named: false, select: "SELECT f.created_at, f.id FROM file_uploads f",
                                   offset: searchWindow - 1, limit: 1)
            if let floor = try db.queryOne(window.sql, window.args) {
                files = try page(userID: userID, filter: filter, cursor: cursor, driver: ordered,
                                 floor: (try floor.get("created_at"), try floor.get("id")), limit: limit + 1)
                if files.count <= limit {
                    files = try page(userID: userID, filter: filter, cursor: cursor, driver: .search, search: (search, match), limit: limit + 1)
                }
            } else {
                files = try page(userID: userID, filter: filter, cursor: cursor, driver: ordered, limit: limit + 1)
            }
        } else if let match = search.match {
            files = try page(userID: userID, filter: filter, cursor: cursor, driver: .search, search: (search, match), limit: limit + 1)
        } else {
            files = try page(userID: userID, filter: filter, cursor: cursor, driver: ordered, limit: limit + 1)
        }
        var next: PageCursor?
        if files.count > limit {
            files.removeLast()
            next = files.last.map { PageCursor(value: String($0.createdAt), id: $0.id) }
        }
        return (files, next)
    }

    /// One query of `list`, its rows as files.
    private func page(userID: Int64, filter: Filter, cursor: PageCursor?, driver: ListIndex, search: (FileSearch, String)? = nil,
                      floor: (createdAt: Int64, id: Int64)? = nil, limit: Int) throws -> [FileRecord] {
        let query = pageQuery(userID: userID, filter: filter, cursor: cursor, driver: driver, search: search, floor: floor, limit: limit)
        return try db.query(query.sql, query.args).map(Self.record)
    }

    /// A query of `list`: the owner's files after `cursor` that `filter` keeps (its file-name
    /// text too unless `named` is false), read through `driver`'s index, newest first from
    /// `offset`, none older than `floor`; through the trigram index when `search` is given.
    private func pageQuery(userID: Int64, filter: Filter, cursor: PageCursor?, driver: ListIndex, named: Bool = true, select: String = Self.select,
                           search: (FileSearch, String)? = nil, floor: (createdAt: Int64, id: Int64)? = nil,
                           offset: Int = 0, limit: Int) -> (sql: String, args: [any DatabaseValueConvertible]) {
        var conditions: [String] = []
        var args: [any DatabaseValueConvertible] = []
        /// `column` compared as `sql` says; a column the driving index does not lead with is
        /// written `+column`, which keeps the planner from choosing its index instead.
        func add(_ column: String, leads: Bool, _ sql: (String, Int) -> String, _ value: any DatabaseValueConvertible) {
            args.append(value)
            conditions.append(sql(leads ? column : db.dialect.notIndexed(column), args.count))
        }
        add("f.user_id", leads: driver == .owner || driver == .status, { "\($0) = $\($1)" }, userID)
        if let v = filter.portalID { add("f.portal_id", leads: driver == .portal, { "\($0) = $\($1)" }, v) }
        if let v = filter.accountID { add("f.storage_account_id", leads: driver == .account, { "\($0) = $\($1)" }, v) }
        if let v = filter.status, !v.isEmpty { add("f.status", leads: driver == .status, { "\($0) = $\($1)" }, v) }
        if let v = filter.from { add("f.created_at", leads: true, { "\($0) >= $\($1)" }, v) }
        if let v = filter.to { add("f.created_at", leads: true, { "\($0) < $\($1)" }, v) }
        if let v = filter.client, !v.isEmpty {
            // A range of the (user_id, client_… NOCASE) indexes: every text that starts with
            // `v` as NOCASE compares (ASCII letters folded, as LIKE folds them) sorts from `v` to
            // `v` followed by the last code point; LIKE then keeps exactly the matches.
            args += [v, v + "\u{10FFFF}"]
            let (low, high) = (args.count - 1, args.count)
            conditions.append("""
                f.id IN (SELECT id FROM file_uploads WHERE user_id = $1 AND client_name >= $\(low) COLLATE NOCASE AND client_name < $\(high) COLLATE NOCASE \
                UNION ALL SELECT id FROM file_uploads WHERE user_id = $1 AND client_email >= $\(low) COLLATE NOCASE AND client_email < $\(high) COLLATE NOCASE)
                """)
            args.append(LikePattern.prefix(v))
            conditions.append("(f.client_name \(db.dialect.like) $\(args.count) ESCAPE '\\' OR f.client_email \(db.dialect.like) $\(args.count) ESCAPE '\\')")
        }
        if named, let v = filter.search, !v.isEmpty {
            args.append(LikePattern.containing(v))
            conditions.append("f.file_name \(db.dialect.like) $\(args.count) ESCAPE '\\'")
        }
        if let (search, match) = search {
            args.append(match)
            conditions.append(search.condition(parameter: args.count))
        }
        if let cursor {
            args.append(cursor.integer ?? Int64.max)
            args.append(cursor.id)
            conditions.append("(f.created_at, f.id) < ($\(args.count - 1), $\(args.count))")
        }
        if let floor {
            args += [floor.createdAt, floor.id]
            conditions.append("(f.created_at, f.id) >= ($\(args.count - 1), $\(args.count))")
        }
        args += [limit, offset]
        return (select + " WHERE " + conditions.joined(separator: " AND ")
                + " ORDER BY f.created_at DESC, f.id DESC LIMIT $\(args.count - 1) OFFSET $\(args.count)", args)
    }

    /// The index a list page is read through.
    enum ListIndex { case owner, portal, account, status, client, search }

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
                   clientEmail: try row.get("client_email"), clientMessage: try row.get("client_message"), status: try row.get("status"), failureReason: try row.get("failure_reason"),
                   createdAt: try row.get("created_at"), receiptSecret: try row.get("receipt_secret"), missingSince: try row.get("missing_since"))
    }
}
