/// Where the next page of a keyset-paged list starts: after the row `id` whose value in the
/// list's order was `value` (a time, an e-mail, a byte count, a ratio). Its text form, as links
/// and the API carry it, is `<value>.<id>` (read back from the last dot, so the value may hold dots).
public struct PageCursor: Sendable, Equatable, LosslessStringConvertible {
    public let value: String
    public let id: Int64

    public init(value: String, id: Int64) {
        self.value = value
        self.id = id
    }

    public init?(_ text: String) {
        guard let dot = text.lastIndex(of: "."), let id = Int64(text[text.index(after: dot)...]), id > 0 else { return nil }
        self.init(value: String(text[..<dot]), id: id)
    }

    public var description: String { "\(value).\(id)" }

    /// The value as a whole number, for lists ordered by one (nil when it is not one).
    public var integer: Int64? { Int64(value) }
}
