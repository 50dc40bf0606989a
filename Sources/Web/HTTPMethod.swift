/// An HTTP request method. Unknown tokens are kept as they came so a 405 can name them.
public struct HTTPMethod: Sendable, Hashable, CustomStringConvertible {
    /// The method token, upper case as sent.
    public let rawValue: String

    /// Wraps a method token.
    public init(_ rawValue: String) { self.rawValue = rawValue }

    public var description: String { rawValue }

    /// Whether the method may change state, and so needs CSRF protection (RFC 9110 §9.2.1).
    public var isUnsafe: Bool { !(self == .get || self == .head || self == .options) }

    public static let get = HTTPMethod("GET")
    public static let head = HTTPMethod("HEAD")
    public static let post = HTTPMethod("POST")
    public static let put = HTTPMethod("PUT")
    public static let patch = HTTPMethod("PATCH")
    public static let delete = HTTPMethod("DELETE")
    public static let options = HTTPMethod("OPTIONS")
}
