import CPostgres
#if canImport(Glibc)
import Glibc
#endif

/// A PostgreSQL connection over libpq: statements prepared once per connection and cached by
/// SQL text, parameters always bound (never written into the SQL), results decoded by column type.
///
/// One connection per thread, like `SQLiteDatabase`. Write transactions keep the meaning the
/// code was written for under SQLite's `BEGIN IMMEDIATE`: one writer at a time. Each takes a
/// transaction-scoped advisory lock (`pg_advisory_xact_lock`) as its first statement, so a write
/// transaction that reads and then writes (a quota check, a purchase, a lease take-over) never
/// interleaves with another, on any host sharing the database; readers are never blocked. Read
/// transactions are `REPEATABLE READ`: one snapshot for all their queries.
public final class PostgresDatabase: Database, NestedTransactions {
    public let dialect = SQLDialect.postgresql
    /// The connection string this connection was opened with (it may hold a password: never log it).
    public let url: String
    public var location: DatabaseLocation { .postgresql(url: url) }

    private var connection: OpaquePointer?
    /// Prepared statement names by SQL text; prepared statements live and die with the session.
    private var statements: [String: String] = [:]
    var transactionDepth = 0

    /// The advisory lock every write transaction takes ("intake" in ASCII).
    static let writerLock: Int64 = 0x696E_7461_6B65
    /// How long one statement may run, unless the connection string sets `statement_timeout`.
    public static let statementTimeoutMilliseconds = 30_000

    /// Connects to `url` (`postgres://user:password@host:port/database?…` or `key=value` pairs).
    public init(url: String) throws {
        self.url = url
        try connect()
    }

    deinit { PQfinish(connection) }

    private func connect() throws {
        PQfinish(connection)
        connection = nil
        statements.removeAll()
        guard let conn = PQconnectdb(url) else { throw DatabaseError(.unavailable, "out of memory") }
        connection = conn
        guard PQstatus(conn) == CONNECTION_OK else {
            throw DatabaseError(.unavailable, "cannot connect to PostgreSQL: \(Self.message(conn))")
        }
        // Notices (a `DROP … IF EXISTS` that had nothing to drop) are not errors; libpq would
        // print them on standard error.
        PQsetNoticeProcessor(conn, { _, _ in }, nil)
        var settings = "SET client_min_messages = warning; SET TIME ZONE 'UTC';"
        if !url.contains("statement_timeout") {
            settings += " SET statement_timeout = \(Self.statementTimeoutMilliseconds);"
        }
        try executeScript(settings)
    }

    // MARK: Statements

    @discardableResult
    public func execute(_ sql: String, _ arguments: [any DatabaseValueConvertible]) throws -> Int {
        let result = try run(sql, arguments)
        defer { PQclear(result) }
        return Int(String(cString: PQcmdTuples(result))) ?? 0
    }

    public func query(_ sql: String, _ arguments: [any DatabaseValueConvertible]) throws -> [Row] {
        let result = try run(sql, arguments)
        defer { PQclear(result) }
        let columnCount = PQnfields(result)
        let columns = (0..<columnCount).map { String(cString: PQfname(result, $0)) }
        let types = (0..<columnCount).map { PQftype(result, $0) }
        var rows: [Row] = []
        let rowCount = PQntuples(result)
        rows.reserveCapacity(Int(rowCount))
        for r in 0..<rowCount {
            var values: [DatabaseValue] = []
            values.reserveCapacity(Int(columnCount))
            for c in 0..<columnCount {
                if PQgetisnull(result, r, c) != 0 {
                    values.append(.null)
                } else {
                    let length = Int(PQgetlength(result, r, c))
                    let bytes = UnsafeRawBufferPointer(start: PQgetvalue(result, r, c), count: length)
                    values.append(Self.decode(bytes, type: types[Int(c)]))
                }
            }
            rows.append(Row(columns: columns, values: values))
        }
        return rows
    }

    public func executeScript(_ sql: String) throws {
        try retryingOnceIfDisconnected(sql.hasPrefix("BEGIN")) { try script(sql) }
    }

    private func script(_ sql: String) throws {
        try reconnectIfBroken()
        guard let result = PQexec(connection, sql) else { throw DatabaseError(.unavailable, "out of memory") }
        defer { PQclear(result) }
        let status = PQresultStatus(result)
        guard status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_EMPTY_QUERY else {
            throw error(result, sql)
        }
    }

    /// Prepares `sql` on first use (parameter types from these arguments), then executes it.
    /// A statement that writes outside a transaction is a write transaction of its own, as in
    /// SQLite, where it takes the one write lock: a single `UPDATE … WHERE holder = $1` never runs
    /// between another transaction's read and its write.
    private func run(_ sql: String, _ arguments: [any DatabaseValueConvertible]) throws -> OpaquePointer {
        if transactionDepth == 0 && Self.writes(sql) {
            return try write { try run(sql, arguments) }
        }
        return try retryingOnceIfDisconnected(true) { try send(sql, arguments) }
    }

    private func send(_ sql: String, _ arguments: [any DatabaseValueConvertible]) throws -> OpaquePointer {
        try reconnectIfBroken()
        let values = arguments.map(\.databaseValue)
        let name = try preparedName(sql, values)
        var texts: [[CChar]?] = []
        var lengths: [Int32] = []
        var formats: [Int32] = []
        texts.reserveCapacity(values.count)
        for value in values {
            switch value {
            case .null: texts.append(nil); lengths.append(0); formats.append(0)
            case .integer(let i): texts.append(Array(String(i).utf8CString)); lengths.append(0); formats.append(0)
            case .real(let d): texts.append(Array(String(d).utf8CString)); lengths.append(0); formats.append(0)
            case .text(let s):
                guard !s.utf8.contains(0) else {
                    throw DatabaseError(.other, "a text value holds a NUL character, which PostgreSQL cannot store", sql: sql)
                }
                texts.append(Array(s.utf8CString)); lengths.append(0); formats.append(0)
            case .blob(let b):
                texts.append(b.map { CChar(bitPattern: $0) }); lengths.append(Int32(b.count)); formats.append(1)
            }
        }
        let result = withPointers(texts) { pointers in
            PQexecPrepared(connection, name, Int32(values.count), pointers, lengths, formats, 0)
        }
        guard let result else { throw DatabaseError(.unavailable, Self.message(connection), sql: sql) }
        let status = PQresultStatus(result)
        guard status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK else {
            defer { PQclear(result) }
            throw error(result, sql)
        }
        return result
    }

    /// Text and NULL parameters are sent untyped, so the server gives them the type of the column
    /// they meet (a `citext` column compares as `citext`); where nothing tells (`$3 IS NULL`), they
    /// are prepared again as `text`.
    private func preparedName(_ sql: String, _ values: [DatabaseValue]) throws -> String {
        if let name = statements[sql] { return name }
        let name = "s\(statements.count + 1)"
        // A failed PREPARE inside a transaction would abort it: there the first try runs in a
        // savepoint (once per statement and connection; prepared statements are kept).
        let inTransaction = transactionDepth > 0
        if inTransaction { try executeScript("SAVEPOINT prepare") }
        do {
            try prepare(name, sql, values.map { Self.typeOID($0, untypedText: 0) })
            if inTransaction { try executeScript("RELEASE SAVEPOINT prepare") }
        } catch let e as DatabaseError where e.message.contains("SQLSTATE 42P08") || e.message.contains("SQLSTATE 42P18") {
            if inTransaction { try executeScript("ROLLBACK TO SAVEPOINT prepare; RELEASE SAVEPOINT prepare") }
            try prepare(name, sql, values.map { Self.typeOID($0, untypedText: 25) })
        } catch {
            if inTransaction { try? executeScript("ROLLBACK TO SAVEPOINT prepare; RELEASE SAVEPOINT prepare") }
            throw error
        }
        statements[sql] = name
        return name
    }

    private func prepare(_ name: String, _ sql: String, _ types: [Oid]) throws {
        guard let result = PQprepare(connection, name, Self.numbered(sql), Int32(types.count), types) else {
            throw DatabaseError(.unavailable, Self.message(connection), sql: sql)
        }
        defer { PQclear(result) }
        guard PQresultStatus(result) == PGRES_COMMAND_OK else { throw error(result, sql) }
    }

    private static func typeOID(_ value: DatabaseValue, untypedText: Oid) -> Oid {
        switch value {
        case .null, .text: return untypedText
        case .integer: return 20  // int8
        case .real: return 701  // float8
        case .blob: return 17  // bytea
        }
    }

    /// Whether `sql` may change data (its first word).
    static func writes(_ sql: String) -> Bool {
        let word = sql.drop { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "(" }.prefix { $0.isLetter }.uppercased()
        return ["INSERT", "UPDATE", "DELETE", "WITH", "REPLACE"].contains(word)
    }

    /// `?` placeholders (which SQLite also takes) become `$n` in order; `$n` is left alone.
    /// Quoted text and identifiers are skipped.
    static func numbered(_ sql: String) -> String {
        guard sql.contains("?") else { return sql }
        var out = ""
        var n = 0
        var quote: Character?
        for c in sql {
            if let q = quote {
                if c == q { quote = nil }
                out.append(c)
            } else if c == "'" || c == "\"" {
                quote = c
                out.append(c)
            } else if c == "?" {
                n += 1
                out += "$\(n)"
            } else {
                out.append(c)
            }
        }
        return out
    }

    private func withPointers<R>(_ texts: [[CChar]?], _ body: ([UnsafePointer<CChar>?]) -> R) -> R {
        var pointers: [UnsafePointer<CChar>?] = []
        pointers.reserveCapacity(texts.count)
        var buffers: [UnsafeMutableBufferPointer<CChar>] = []
        defer { buffers.forEach { $0.deallocate() } }
        for text in texts {
            guard let text else { pointers.append(nil); continue }
            let buffer = UnsafeMutableBufferPointer<CChar>.allocate(capacity: max(text.count, 1))
            _ = buffer.initialize(from: text)
            buffers.append(buffer)
            pointers.append(UnsafePointer(buffer.baseAddress))
        }
        return body(pointers)
    }

    /// A column value in libpq's text format as a portable value, by the column's type.
    static func decode(_ bytes: UnsafeRawBufferPointer, type: Oid) -> DatabaseValue {
        let text = String(decoding: bytes, as: UTF8.self)
        switch type {
        case 16: return .integer(text == "t" ? 1 : 0)  // bool: SQLite's comparisons give 0 or 1
        case 20, 21, 23, 26: return Int64(text).map(DatabaseValue.integer) ?? .text(text)
        case 700, 701: return Double(text).map(DatabaseValue.real) ?? .text(text)
        case 1700:  // numeric: sum() of integers is numeric; whole values stay integers
            if let i = Int64(text) { return .integer(i) }
            return Double(text).map(DatabaseValue.real) ?? .text(text)
        case 17: return .blob(hexDecoded(bytes))
        default: return .text(text)
        }
    }

    /// bytea's hex output (`\x0a1b…`) as bytes.
    static func hexDecoded(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        guard bytes.count >= 2, bytes[0] == UInt8(ascii: "\\"), bytes[1] == UInt8(ascii: "x") else { return Array(bytes) }
        func nibble(_ c: UInt8) -> UInt8 {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
            default: return c &- UInt8(ascii: "A") &+ 10
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count - 2) / 2)
        var i = 2
        while i + 1 < bytes.count {
            out.append(nibble(bytes[i]) << 4 | nibble(bytes[i + 1]))
            i += 2
        }
        return out
    }

    // MARK: Transactions

    public func write<T>(_ body: () throws -> T) throws -> T {
        try transaction(begin: "BEGIN; SELECT pg_advisory_xact_lock(\(Self.writerLock))", body)
    }

    public func read<T>(_ body: () throws -> T) throws -> T {
        try transaction(begin: "BEGIN ISOLATION LEVEL REPEATABLE READ", body)
    }

    func beginTransaction(_ statement: String) throws { try executeScript(statement) }

    var isInTransaction: Bool { PQtransactionStatus(connection) != PQTRANS_IDLE }

    public func updatePlannerStatistics() throws {
        try executeScript("ANALYZE")
    }

    // MARK: Connection and errors

    /// Runs `body`, and once more on a new connection when the old one turns out to be gone (the
    /// server restarted since the last statement): only outside a transaction, and only for what
    /// is safe to send twice (`safe`: a read, or the `BEGIN` of a transaction).
    private func retryingOnceIfDisconnected<T>(_ safe: Bool, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as DatabaseError where safe && transactionDepth == 0 && PQstatus(connection) == CONNECTION_BAD {
            _ = error
            try connect()
            return try body()
        }
    }

    /// A connection the server dropped (it restarted, or an administrator ended the session) is
    /// opened again before the next statement, never inside a transaction: what the transaction
    /// did is gone with the old session, so it fails and its caller's retry starts over.
    private func reconnectIfBroken() throws {
        guard PQstatus(connection) != CONNECTION_OK, transactionDepth == 0 else { return }
        try connect()
    }

    private static func message(_ conn: OpaquePointer?) -> String {
        guard let conn, let text = PQerrorMessage(conn) else { return "no connection" }
        return String(cString: text).trimmingTrailingNewlines()
    }

    /// The one place PostgreSQL's SQLSTATE codes become typed errors.
    private func error(_ result: OpaquePointer, _ sql: String) -> DatabaseError {
        let state = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) } ?? ""
        let primary = PQresultErrorField(result, Int32(UInt8(ascii: "M"))).map { String(cString: $0) }
        let message = primary ?? Self.message(connection)
        let kind: DatabaseError.Kind
        if state.hasPrefix("23") || state == "P0001" {
            kind = .constraint  // integrity; a trigger's RAISE
        } else if ["40001", "40P01", "55P03", "57014"].contains(state) {
            kind = .busy  // serialization, deadlock, lock or statement timeout
        } else if state.hasPrefix("08") || ["57P01", "57P02", "57P03", ""].contains(state) {
            kind = .unavailable
        } else {
            kind = .other
        }
        return DatabaseError(kind, state.isEmpty ? message : "\(message) (SQLSTATE \(state))", sql: sql)
    }
}

private extension String {
    func trimmingTrailingNewlines() -> String {
        var s = self
        while s.last == "\n" { s.removeLast() }
        return s
    }
}
