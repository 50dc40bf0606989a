/// An error from the database layer, with the driver's code, its message and the statement.
public struct DatabaseError: Error, CustomStringConvertible {
    /// What kind of failure, portable across drivers.
    public enum Kind: Sendable, Equatable {
        /// The database is locked by another writer beyond the busy timeout.
        case busy
        /// A UNIQUE, FOREIGN KEY, CHECK or NOT NULL constraint, or a trigger's RAISE, refused the change.
        case constraint
        /// The database cannot be opened or reached.
        case unavailable
        /// A value did not decode into the type asked for.
        case decoding
        /// A migration failed.
        case migration
        /// Anything else the driver reported.
        case other
    }

    public let kind: Kind
    /// The driver's numeric code (SQLite's extended result code), if any.
    public let driverCode: Int32
    /// The driver's message.
    public let message: String
    /// The statement that failed, if any.
    public let sql: String?

    /// An error of `kind` with a message.
    public init(_ kind: Kind, _ message: String, driverCode: Int32 = 0, sql: String? = nil) {
        self.kind = kind
        self.message = message
        self.driverCode = driverCode
        self.sql = sql
    }

    public var description: String {
        var s = "database error (\(kind), code \(driverCode)): \(message)"
        if let sql { s += " in: \(sql)" }
        return s
    }
}
