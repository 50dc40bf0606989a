/// Parsing of `Cookie` request headers and building of `Set-Cookie` values (RFC 6265).
public enum Cookies {
    /// Name/value pairs from every `Cookie` header; the first occurrence of a name wins, as
    /// browsers send the most specific cookie first (RFC 6265 §5.4).
    public static func parse(_ headerValues: [String]) -> [String: String] {
        var result: [String: String] = [:]
        for header in headerValues {
            for pair in header.split(separator: ";") {
                guard let eq = pair.firstIndex(of: "=") else { continue }
                let name = pair[..<eq].trimmingCharacters(in: .whitespaces)
                var value = pair[pair.index(after: eq)...].trimmingCharacters(in: .whitespaces)
                if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") {
                    value = String(value.dropFirst().dropLast())
                }
                if !name.isEmpty, result[name] == nil { result[name] = value }
            }
        }
        return result
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
