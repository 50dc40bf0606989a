/// Parsing of `Cookie` request headers and building of `Set-Cookie` values (RFC 6265).
public enum Cookies {
    /// Name/value pairs from every `Cookie` header; the first occurrence of a name wins, as
    /// browsers send the most specific cookie first (RFC 6265 §5.4).
    public static func parse(_ headerValues: [String]) -> [String: String] {
        var result: [String: String] = [:]
        for header in headerValues {
            // By bytes: the separators are ASCII, so every cut falls between characters.
            let utf8 = header.utf8
            var start = utf8.startIndex
            while start < utf8.endIndex {
                let end = utf8[start...].firstIndex(of: UInt8(ascii: ";")) ?? utf8.endIndex
                if let eq = utf8[start..<end].firstIndex(of: UInt8(ascii: "=")) {
                    let name = trimmed(header, start, eq)
                    var value = trimmed(header, utf8.index(after: eq), end)
                    if value.utf8.count >= 2, value.utf8.first == UInt8(ascii: "\""), value.utf8.last == UInt8(ascii: "\"") {
                        value = String(value[value.utf8.index(after: value.startIndex)..<value.utf8.index(before: value.endIndex)])
                    }
                    if !name.isEmpty, result[name] == nil { result[name] = value }
                }
                start = end < utf8.endIndex ? utf8.index(after: end) : end
            }
        }
        return result
    }

    /// `text[from..<to]` without the spaces and tabs at either end.
    private static func trimmed(_ text: String, _ from: String.Index, _ to: String.Index) -> String {
        let utf8 = text.utf8
        var lower = from, upper = to
        while lower < upper, utf8[lower] == 32 || utf8[lower] == 9 { lower = utf8.index(after: lower) }
        while upper > lower, utf8[utf8.index(before: upper)] == 32 || utf8[utf8.index(before: upper)] == 9 { upper = utf8.index(before: upper) }
        return String(text[lower..<upper])
    }
}

/// A `Set-Cookie` header value.
public struct SetCookie: Sendable {
    /// `Lax`, `Strict` or `None`.
    public enum SameSite: String, Sendable { case lax = "Lax", strict = "Strict", none = "None" }

    public var name: String
    public var value: String
    public var path: String = "/"
    /// Seconds until expiry; `nil` for a session cookie, 0 to delete.
    public var maxAge: Int?
    public var httpOnly = true
    public var secure = false
    public var sameSite: SameSite = .lax

    /// A cookie with safe defaults: `Path=/`, `HttpOnly`, `SameSite=Lax`.
    public init(name: String, value: String, maxAge: Int? = nil, secure: Bool = false) {
        self.name = name
        self.value = value
        self.maxAge = maxAge
        self.secure = secure
    }

    /// The header value.
    public var headerValue: String {
        var parts = ["\(name)=\(value)", "Path=\(path)"]
        if let maxAge { parts.append("Max-Age=\(maxAge)") }
        if httpOnly { parts.append("HttpOnly") }
        if secure { parts.append("Secure") }
        parts.append("SameSite=\(sameSite.rawValue)")
        return parts.joined(separator: "; ")
    }
}
