/// Which SQL dialect a connection speaks, for the rare statement that cannot be portable.
public enum SQLDialect: Sendable {
    case sqlite
    case postgresql
}

extension SQLDialect {
    /// LIKE that ignores case: SQLite's LIKE folds ASCII letters; PostgreSQL's ILIKE folds every
    /// letter (its LIKE folds none).
    public var like: String { self == .sqlite ? "LIKE" : "ILIKE" }

    /// `column` written so the planner does not choose an index that leads with it, where the
    /// caller knows a better one (SQLite's unary `+`; PostgreSQL's planner weighs costs and
    /// takes the column as it is).
    public func notIndexed(_ column: String) -> String {
        self == .sqlite ? "+" + column : column
    }
}

/// One database connection, confined to the thread that uses it.
///
/// The SQL that callers write is portable between SQLite and PostgreSQL: numbered parameters
/// (`$1`, `$2`), `RETURNING` instead of last-insert-id, ISO-8601 UTC text or integer epochs for
/// times, integers for money and sizes.
public protocol Database: AnyObject {
    /// The dialect of this connection.
    var dialect: SQLDialect { get }

    /// Where this connection's database is: `location.open()` is another connection to it, as
    /// another thread or process holds.
    var location: DatabaseLocation { get }

    /// Runs a statement that returns no rows; returns how many rows it changed.
    @discardableResult
    func execute(_ sql: String, _ arguments: [any DatabaseValueConvertible]) throws -> Int

    /// Runs a query and returns every row.
    func query(_ sql: String, _ arguments: [any DatabaseValueConvertible]) throws -> [Row]

    /// Runs several statements with no parameters (migrations).
    func executeScript(_ sql: String) throws

    /// Runs `body` in a write transaction that holds the write lock from its first statement
    /// (`BEGIN IMMEDIATE` in SQLite), retrying the start while another writer holds it. Commits
    /// when `body` returns, rolls back when it throws. Nested calls become savepoints.
    func write<T>(_ body: () throws -> T) throws -> T

    /// Runs `body` in a read transaction: one consistent snapshot for all its queries.
    func read<T>(_ body: () throws -> T) throws -> T

    /// Brings the planner's statistics up to date where the data has changed enough to matter
    /// (run on a schedule, so plans follow the data as it grows).
    func updatePlannerStatistics() throws
}

extension Database {
    /// `execute` with no arguments.
    @discardableResult
    public func execute(_ sql: String) throws -> Int { try execute(sql, []) }

    /// `query` with no arguments.
    public func query(_ sql: String) throws -> [Row] { try query(sql, []) }

    /// The first row of a query, if any.
    public func queryOne(_ sql: String, _ arguments: [any DatabaseValueConvertible] = []) throws -> Row? {
        try query(sql, arguments).first
    }

    /// The first column of the first row, decoded as `T`.
    public func scalar<T: DatabaseValueConvertible>(_ sql: String, _ arguments: [any DatabaseValueConvertible] = [], as type: T.Type = T.self) throws -> T? {
        guard let row = try queryOne(sql, arguments), let first = row.columns.first else { return nil }
        return try row.get(first, as: T.self)
    }
}
