/// An error a user may see: it carries its status, a stable machine code for the JSON API and
/// a public message. Any other error is logged with the request id and shown as a plain 500.
public protocol HTTPResponseError: Error {
    /// The status the response gets.
    var status: HTTPStatus { get }
    /// A short snake_case code for `{"error":{"code":…}}`.
    var code: String { get }
    /// The message shown to the user; never internal detail.
    var publicMessage: String { get }
    /// More fields of the JSON error object beside `code` and `message` (the choices an
    /// ambiguous request can make, say); none by default.
    var details: [(String, JSONValue)] { get }
}

extension HTTPResponseError {
    public var details: [(String, JSONValue)] { [] }
}

/// A ready-made user-facing error for handlers that need nothing more specific.
public struct HTTPError: HTTPResponseError, CustomStringConvertible {
    public let status: HTTPStatus
    public let code: String
    public let publicMessage: String
    public let details: [(String, JSONValue)]

    /// An error with an explicit status, code and message, and any more fields for its JSON.
    public init(_ status: HTTPStatus, code: String, _ message: String, details: [(String, JSONValue)] = []) {
        self.status = status
        self.code = code
        self.publicMessage = message
        self.details = details
    }

    public var description: String { "\(status): \(publicMessage)" }

    /// 400 with a message that says what was wrong with the request.
    public static func badRequest(_ message: String, code: String = "bad_request") -> HTTPError {
        HTTPError(.badRequest, code: code, message)
    }

    /// 413 for a body or part above its limit.
    public static func tooLarge(_ message: String) -> HTTPError {
        HTTPError(.payloadTooLarge, code: "payload_too_large", message)
    }
}
