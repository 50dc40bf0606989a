/// An ordered list of header fields with case-insensitive lookup by name.
///
/// Names are stored lower-cased: HTTP field names are case-insensitive (RFC 9110 §5.1) and
/// FastCGI delivers them upper-cased as `HTTP_*` params anyway.
public struct HTTPHeaders: Sendable, Sequence, ExpressibleByDictionaryLiteral {
    private var fields: [(name: String, value: String)] = []

    /// No fields.
    public init() {}

    /// Makes room for `count` fields, so a request's headers are stored without regrowing.
    public mutating func reserveCapacity(_ count: Int) { fields.reserveCapacity(count) }

    /// `name` lower-cased. Names are nearly always lower case already (the transport's and the
    /// code's own literals), so they are only checked, byte by byte, and returned as they are.
    @inline(__always)
    static func key(_ name: String) -> String {
        let isLower = name.utf8.withContiguousStorageIfAvailable { bytes in
            for b in bytes where b >= 65 && b <= 90 || b >= 0x80 { return false }
            return true
        }
        return isLower == true ? name : name.lowercased()
    }

    /// Fields from a literal, in order.
    public init(dictionaryLiteral elements: (String, String)...) {
        for (name, value) in elements { add(name, value) }
    }

    /// The first value of `name`, if present.
    public subscript(name: String) -> String? {
        let key = Self.key(name)
        return fields.first { $0.name == key }?.value
    }

    /// Every value of `name`, in order.
    public func values(_ name: String) -> [String] {
        let key = Self.key(name)
        var result: [String] = []
        for field in fields where field.name == key { result.append(field.value) }
        return result
    }

    /// Appends a field, keeping any existing ones of the same name (as `Set-Cookie` needs).
    public mutating func add(_ name: String, _ value: String) {
        fields.append((Self.key(name), value))
    }

    /// Replaces every field of `name` with one value.
    public mutating func set(_ name: String, _ value: String) {
        let key = Self.key(name)
        if fields.contains(where: { $0.name == key }) { fields.removeAll { $0.name == key } }
        fields.append((key, value))
    }

    /// Removes every field of `name`.
    public mutating func remove(_ name: String) {
        let key = Self.key(name)
        fields.removeAll { $0.name == key }
    }

    /// Whether a field of `name` is present.
    public func contains(_ name: String) -> Bool { self[name] != nil }

    public func makeIterator() -> IndexingIterator<[(name: String, value: String)]> {
        fields.makeIterator()
    }
}
