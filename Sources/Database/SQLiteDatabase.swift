import CSQLite
#if canImport(Glibc)
import Glibc
#endif

/// A SQLite connection: WAL journal, a busy timeout, foreign keys on, prepared statements
/// cached by SQL text.
///
/// One connection per thread: the connection is opened with `SQLITE_OPEN_NOMUTEX` and must not
/// be shared. That is why it is a class with no locks and not `Sendable`.
public final class SQLiteDatabase: Database, NestedTransactions {
    public let dialect = SQLDialect.sqlite
    /// The file this connection opened.
    public let path: String
    public var location: DatabaseLocation { .sqlite(path: path) }

    /// The connection; only this type and its extensions in this module use it.
    private(set) var handle: OpaquePointer?
    private var statements: [String: PreparedStatement] = [:]
    var transactionDepth = 0
    /// The writers' queue file (`<path>-writer`), opened on the first write transaction.
    private var writerQueue: Int32 = -1

    /// How long a statement waits for another writer before reporting busy.
    public static let busyTimeoutMilliseconds: Int32 = 5000

    /// Opens (creating if needed) the database at `path` and configures it.
    public init(path: String) throws {
        self.path = path
        _ = Self.processSetup
        var db: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close_v2(db)
            throw DatabaseError(.unavailable, "cannot open \(path): \(message)", driverCode: rc)
        }
        handle = db
        sqlite3_extended_result_codes(db, 1)
        sqlite3_busy_timeout(db, Self.busyTimeoutMilliseconds)
        // WAL lets readers run beside one writer; NORMAL sync is durable across crashes of the
        // process (not of the OS for the last transactions), the usual choice with WAL.
        let mode = try query("PRAGMA journal_mode = WAL").first?.values.first
        if mode != .text("wal") && path != ":memory:" {
            throw DatabaseError(.unavailable, "cannot switch \(path) to WAL mode (got \(mode ?? .null))")
        }
        try executeScript("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;")
        SQLiteCheckpointer.attach(db, path: path)
    }

    /// Once per process, before the first connection: SQLite's memory statistics off, so that
    /// connections on different threads share no lock when they allocate (see the shim).
    private static let processSetup: Void = { _ = csqlite_disable_memory_statistics() }()

    deinit {
        statements.removeAll()  // finalizes every statement before the connection closes
        sqlite3_close_v2(handle)
        if writerQueue >= 0 { close(writerQueue) }
    }

    @discardableResult
    public func execute(_ sql: String, _ arguments: [any DatabaseValueConvertible]) throws -> Int {
        let statement = try prepared(sql)
        return try queuedIfWriting(statement) {
            try statement.bind(arguments)
            defer { statement.reset() }
            while try step(statement, sql) {}
            return Int(sqlite3_changes(handle))
        }
    }

    public func query(_ sql: String, _ arguments: [any DatabaseValueConvertible]) throws -> [Row] {
        let statement = try prepared(sql)
        return try queuedIfWriting(statement) {
            try statement.bind(arguments)
            defer { statement.reset() }
            var rows: [Row] = []
            let columns = statement.columnNames
            while try step(statement, sql) {
                rows.append(Row(columns: columns, values: statement.currentValues()))
            }
            return rows
        }
    }

    /// A statement that writes outside a transaction is a write transaction of its own: it
    /// queues for the write lock as `write` does. Left to SQLite's busy handler, such a write
    /// (an upload's reservation released at the end of its request) kept losing the lock to the
    /// queue's writers, sleeping 1, 2, 5 … 100 ms between tries while it held a worker thread.
    private func queuedIfWriting<T>(_ statement: PreparedStatement, _ body: () throws -> T) throws -> T {
        guard transactionDepth == 0, statement.writesRows, enterWriterQueue() else { return try body() }
        defer { leaveWriterQueue() }
        return try body()
    }

    public func executeScript(_ sql: String) throws {
        var message: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &message)
        if rc != SQLITE_OK {
            let text = message.map { String(cString: $0) } ?? String(cString: sqlite3_errstr(rc))
            sqlite3_free(message)
            throw error(rc, text, sql)
        }
    }

    public func write<T>(_ body: () throws -> T) throws -> T {
        guard transactionDepth == 0, enterWriterQueue() else { return try transaction(begin: "BEGIN IMMEDIATE", body) }
        defer { leaveWriterQueue() }
        return try transaction(begin: "BEGIN IMMEDIATE", body)
    }

    /// Writers queue for SQLite's one write lock on a `flock(2)` of a file beside the database,
    /// waiting in the kernel, which wakes them as the lock frees. SQLite's own busy handler polls
    /// with sleeps that grow to 100 ms, so under a burst of writers a waiter kept losing to newer
    /// ones: purchases through 8 clients had a median of 5 ms and a p99 near a second. Every
    /// process on the host shares the file; a crashed holder's lock goes with its process. A
    /// thread that already holds it through another connection skips it (SQLite's busy timeout
    /// then applies, as before), so a thread never waits on itself.
    private func enterWriterQueue() -> Bool {
        guard path != ":memory:", pthread_getspecific(Self.queueHeld) == nil else { return false }
        if writerQueue < 0 { writerQueue = open(path + "-writer", O_RDWR | O_CREAT | O_CLOEXEC, 0o600) }
        guard writerQueue >= 0 else { return false }
        while flock(writerQueue, LOCK_EX) != 0 {
            guard errno == EINTR else { return false }
        }
        pthread_setspecific(Self.queueHeld, UnsafeRawPointer(bitPattern: 1))
        return true
    }

    private func leaveWriterQueue() {
        flock(writerQueue, LOCK_UN)
        pthread_setspecific(Self.queueHeld, nil)
    }

    /// Runs `body` holding the writers' queue, outside any transaction (the checkpoint thread's
    /// catch-up); false, without running it, when the queue cannot be had.
    func inWriterQueue(_ body: () -> Void) -> Bool {
        guard transactionDepth == 0, enterWriterQueue() else { return false }
        defer { leaveWriterQueue() }
        body()
        return true
    }

    /// Set on a thread while it holds the writers' queue.
    private static let queueHeld: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()

    public func read<T>(_ body: () throws -> T) throws -> T {
        try transaction(begin: "BEGIN DEFERRED", body)
    }

    func beginTransaction(_ statement: String) throws { try beginRetryingWhileBusy(statement) }

    var isInTransaction: Bool { sqlite3_get_autocommit(handle) == 0 }

    /// `BEGIN IMMEDIATE` already waits for the busy timeout; under a long write burst it may still
    /// report busy, so it is retried with a growing pause before giving up. The body has not run
    /// yet at that point, so retrying is always safe.
    private func beginRetryingWhileBusy(_ begin: String) throws {
        var attempt = 0
        while true {
            do {
                try executeScript(begin)
                return
            } catch let e as DatabaseError where e.kind == .busy && attempt < 5 {
                attempt += 1
                usleep(UInt32(10_000 * attempt))
            }
        }
    }

    private func prepared(_ sql: String) throws -> PreparedStatement {
        if let cached = statements[sql] { return cached }
        var stmt: OpaquePointer?
        let rc = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &stmt, nil)
        guard rc == SQLITE_OK, let stmt else {
            throw error(rc, String(cString: sqlite3_errmsg(handle)), sql)
        }
        let statement = PreparedStatement(stmt)
        statements[sql] = statement
        return statement
    }

    private func step(_ statement: PreparedStatement, _ sql: String) throws -> Bool {
        let rc = sqlite3_step(statement.stmt)
        switch rc {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default: throw error(rc, String(cString: sqlite3_errmsg(handle)), sql)
        }
    }

    /// The one place SQLite result codes become typed errors.
    func error(_ rc: Int32, _ message: String, _ sql: String?) -> DatabaseError {
        let kind: DatabaseError.Kind
        switch rc & 0xFF {
        case SQLITE_BUSY, SQLITE_LOCKED: kind = .busy
        case SQLITE_CONSTRAINT: kind = .constraint
        case SQLITE_CANTOPEN, SQLITE_NOTADB, SQLITE_IOERR, SQLITE_CORRUPT, SQLITE_READONLY: kind = .unavailable
        default: kind = .other
        }
        return DatabaseError(kind, message, driverCode: rc, sql: sql)
    }
}

/// A prepared statement owned by one connection; finalized when the cache drops it.
final class PreparedStatement {
    let stmt: OpaquePointer
    let columnNames: [String]
    /// Whether it changes rows (a PRAGMA that sets the connection up changes none).
    let writesRows: Bool
    /// For each SQL parameter (1-based), the index into the argument list: `$3` takes the third
    /// argument wherever it appears; `?` takes arguments in order.
    private let argumentIndex: [Int]

    init(_ stmt: OpaquePointer) {
        self.stmt = stmt
        columnNames = (0..<sqlite3_column_count(stmt)).map { String(cString: sqlite3_column_name(stmt, $0)) }
        writesRows = sqlite3_stmt_readonly(stmt) == 0
            && !String(cString: sqlite3_sql(stmt)).drop(while: \.isWhitespace).prefix(6).uppercased().hasPrefix("PRAGMA")
        let count = sqlite3_bind_parameter_count(stmt)
        var mapping: [Int] = []
        var next = 0
        for i in 0..<count {
            if let name = sqlite3_bind_parameter_name(stmt, i + 1), let n = Int(String(cString: name).dropFirst()), n > 0 {
                mapping.append(n - 1)
            } else {
                mapping.append(next)
                next += 1
            }
        }
        argumentIndex = mapping
    }

    deinit { sqlite3_finalize(stmt) }

    func bind(_ arguments: [any DatabaseValueConvertible]) throws {
        let needed = (argumentIndex.max() ?? -1) + 1
        guard arguments.count == needed else {
            throw DatabaseError(.other, "statement takes \(needed) arguments, got \(arguments.count)", sql: String(cString: sqlite3_sql(stmt)))
        }
        for (i, argIndex) in argumentIndex.enumerated() {
            let position = Int32(i + 1)
            let rc: Int32
            switch arguments[argIndex].databaseValue {
            case .null: rc = sqlite3_bind_null(stmt, position)
            case .integer(let v): rc = sqlite3_bind_int64(stmt, position, v)
            case .real(let v): rc = sqlite3_bind_double(stmt, position, v)
            case .text(let v): rc = sqlite3_bind_text(stmt, position, v, -1, csqlite_transient())
            case .blob(let v):
                rc = v.withUnsafeBytes { sqlite3_bind_blob(stmt, position, $0.baseAddress, Int32($0.count), csqlite_transient()) }
            }
            guard rc == SQLITE_OK else {
                throw DatabaseError(.other, "cannot bind parameter \(position): \(String(cString: sqlite3_errstr(rc)))")
            }
        }
    }

    func currentValues() -> [DatabaseValue] {
        (0..<Int32(columnNames.count)).map { i in
            switch sqlite3_column_type(stmt, i) {
            case SQLITE_INTEGER: return .integer(sqlite3_column_int64(stmt, i))
            case SQLITE_FLOAT: return .real(sqlite3_column_double(stmt, i))
            case SQLITE_TEXT: return .text(String(cString: sqlite3_column_text(stmt, i)))
            case SQLITE_BLOB:
                let n = Int(sqlite3_column_bytes(stmt, i))
                guard n > 0, let p = sqlite3_column_blob(stmt, i) else { return .blob([]) }
                return .blob(Array(UnsafeRawBufferPointer(start: p, count: n)))
            default: return .null
            }
        }
    }

    func reset() {
        sqlite3_reset(stmt)
        sqlite3_clear_bindings(stmt)
    }
}
