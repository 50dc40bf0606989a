/// Decoded name/value pairs from a query string or an urlencoded form, in the order sent.
public struct FormFields: Sendable, Sequence {
    private var pairs: [(name: String, value: String)]

    /// Fields from pairs, in order.
    public init(_ pairs: [(name: String, value: String)] = []) { self.pairs = pairs }

    /// The first value of `name`.
    public subscript(name: String) -> String? { pairs.first { $0.name == name }?.value }

    /// Every value of `name`, in order (checkbox groups, multi-selects).
    public func values(_ name: String) -> [String] { pairs.filter { $0.name == name }.map(\.value) }

    /// How many pairs there are.
    public var count: Int { pairs.count }

    /// Appends a pair.
    public mutating func append(_ name: String, _ value: String) { pairs.append((name, value)) }

    public func makeIterator() -> IndexingIterator<[(name: String, value: String)]> { pairs.makeIterator() }
}

/// Limits for urlencoded data, so a hostile body cannot make the worker allocate without bound.
public struct FormLimits: Sendable {
    /// The most pairs accepted.
    public var maxFields: Int
    /// The most bytes in one decoded name or value.
    public var maxFieldBytes: Int
    /// The most bytes of encoded input.
    public var maxTotalBytes: Int

    /// Limits with working defaults for admin forms.
    public init(maxFields: Int = 1000, maxFieldBytes: Int = 64 * 1024, maxTotalBytes: Int = 1024 * 1024) {
        self.maxFields = maxFields
        self.maxFieldBytes = maxFieldBytes
        self.maxTotalBytes = maxTotalBytes
    }

    public static let `default` = FormLimits()
}

/// Parses `application/x-www-form-urlencoded` data and query strings (WHATWG URL §5.1):
/// `&`-separated pairs, `+` as space, percent-escapes decoded, the result checked as UTF-8.
public enum URLEncodedForm {
    /// Parses `input`; a malformed escape, bad UTF-8 or a broken limit is a 400 naming where.
    public static func parse(_ input: some Collection<UInt8>, limits: FormLimits = .default) throws -> FormFields {
        let bytes = Array(input)
        if bytes.count > limits.maxTotalBytes {
            throw HTTPError.tooLarge("The form data is larger than \(limits.maxTotalBytes) bytes.")
        }
        var fields = FormFields()
        var start = 0
        while start <= bytes.count {
            var end = start
            while end < bytes.count && bytes[end] != UInt8(ascii: "&") { end += 1 }
            if end > start {
                var eq = start
                while eq < end && bytes[eq] != UInt8(ascii: "=") { eq += 1 }
                let name = try decode(bytes, start, eq, limits: limits)
                let value = eq < end ? try decode(bytes, eq + 1, end, limits: limits) : ""
                if fields.count >= limits.maxFields {
                    throw HTTPError.tooLarge("The form has more than \(limits.maxFields) fields.")
                }
                fields.append(name, value)
            }
            start = end + 1
        }
        return fields
    }

    /// Parses a query string given as text.
    public static func parse(_ text: String, limits: FormLimits = .default) throws -> FormFields {
        try parse(Array(text.utf8), limits: limits)
    }

    /// Percent-decodes `bytes[from..<to]`, with `+` as a space.
    static func decode(_ bytes: [UInt8], _ from: Int, _ to: Int, limits: FormLimits) throws -> String {
        var out: [UInt8] = []
        out.reserveCapacity(to - from)
        var i = from
        while i < to {
            let b = bytes[i]
            if b == UInt8(ascii: "%") {
                guard i + 2 < to, let hi = hexValue(bytes[i + 1]), let lo = hexValue(bytes[i + 2]) else {
                    throw HTTPError.badRequest("Invalid percent-encoding at byte \(i) of the form data.")
                }
                out.append(hi << 4 | lo)
                i += 3
            } else {
                out.append(b == UInt8(ascii: "+") ? UInt8(ascii: " ") : b)
                i += 1
            }
            if out.count > limits.maxFieldBytes {
                throw HTTPError.tooLarge("A form field is longer than \(limits.maxFieldBytes) bytes.")
            }
        }
        guard let text = String(validating: out, as: UTF8.self) else {
            throw HTTPError.badRequest("The form data is not valid UTF-8 (in the field starting at byte \(from)).")
        }
        return text
    }

    /// Percent-decodes a path segment (no `+` rule); `nil` if the escape or UTF-8 is malformed.
    public static func decodePathSegment<S: StringProtocol>(_ segment: S) -> String? {
        let bytes = Array(segment.utf8)
        guard bytes.contains(UInt8(ascii: "%")) else { return String(segment) }
        var out: [UInt8] = []
        var i = 0
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "%") {
                guard i + 2 < bytes.count, let hi = hexValue(bytes[i + 1]), let lo = hexValue(bytes[i + 2]) else { return nil }
                out.append(hi << 4 | lo)
                i += 3
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return String(validating: out, as: UTF8.self)
    }

    /// Encodes a value for a query string or form body (unreserved characters kept).
    public static func encode(_ text: String) -> String {
        var out = ""
        for b in text.utf8 {
            switch b {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."),
                 UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(b))
            default:
                out += "%" + String(b, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return out
    }

    private static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return b - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return b - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return b - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
