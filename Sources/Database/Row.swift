/// One result row: column names and values, decoded by name into typed values.
public struct Row: Sendable {
    /// Column names, as the query named them.
    public let columns: [String]
    /// Values, in column order.
    public let values: [DatabaseValue]

    /// A row from its columns and values.
    public init(columns: [String], values: [DatabaseValue]) {
        self.columns = columns
        self.values = values
    }

    /// The raw value of `column`, `.null` if there is no such column.
    public subscript(column: String) -> DatabaseValue {
        guard let i = columns.firstIndex(of: column) else { return .null }
        return values[i]
    }

    /// The value of `column` decoded as `T`; a missing column or a type mismatch is an error
    /// naming both, never a silent default. Inlinable, so that each caller's decoding is
    /// specialized for its type rather than going through the protocol per column.
    @inlinable
    public func get<T: DatabaseValueConvertible>(_ column: String, as type: T.Type = T.self) throws -> T {
        guard let i = columns.firstIndex(of: column) else { throw missingColumn(column) }
        guard let value = T(databaseValue: values[i]) else { throw mismatch(column, values[i], T.self) }
        return value
    }

    @usableFromInline
    func missingColumn(_ column: String) -> DatabaseError {
        DatabaseError(.decoding, "no column '\(column)' in the row (columns: \(columns.joined(separator: ", ")))")
    }

    @usableFromInline
    func mismatch(_ column: String, _ value: DatabaseValue, _ type: Any.Type) -> DatabaseError {
        DatabaseError(.decoding, "column '\(column)' holds \(value), not \(type)")
    }
}
