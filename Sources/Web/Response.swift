/// Writes response body bytes to the client as they are produced.
public protocol ResponseBodyWriter: AnyObject {
    /// Writes `bytes`; throws when the client has gone away.
    func write(_ bytes: UnsafeRawBufferPointer) throws
}

extension ResponseBodyWriter {
    /// Writes an array of bytes.
    public func write(_ bytes: [UInt8]) throws { try bytes.withUnsafeBytes { try write($0) } }
    /// Writes text as UTF-8.
    public func write(_ text: String) throws { try write(Array(text.utf8)) }
}

/// What a response carries after its headers.
public enum ResponseBody {
    /// No body.
    case empty
    /// Bytes already in memory (a rendered page, a JSON document).
    case bytes([UInt8])
    /// A body produced while it is sent (a download); memory stays flat.
    case stream((ResponseBodyWriter) throws -> Void)
}

/// An HTTP response: status, headers and a body.
public struct Response {
    public var status: HTTPStatus
    public var headers: HTTPHeaders
    public var body: ResponseBody

    /// A response from its parts.
    public init(status: HTTPStatus = .ok, headers: HTTPHeaders = HTTPHeaders(), body: ResponseBody = .empty) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The body length when it is known in advance.
    public var knownLength: Int? {
        switch body {
        case .empty: return 0
        case .bytes(let b): return b.count
        case .stream: return nil
        }
    }

    /// A UTF-8 text response.
    public static func text(_ text: String, status: HTTPStatus = .ok) -> Response {
        Response(status: status, headers: ["content-type": "text/plain; charset=utf-8"], body: .bytes(Array(text.utf8)))
    }

    /// An HTML page already rendered to bytes.
    public static func html(_ bytes: [UInt8], status: HTTPStatus = .ok) -> Response {
        Response(status: status, headers: ["content-type": "text/html; charset=utf-8"], body: .bytes(bytes))
    }

    /// A JSON document.
    public static func json(_ value: JSONValue, status: HTTPStatus = .ok) -> Response {
        Response(status: status, headers: ["content-type": "application/json"], body: .bytes(value.serialized()))
    }

    /// A redirect after a form post (303, so the browser follows with GET).
    public static func redirect(to location: String, status: HTTPStatus = .seeOther) -> Response {
        Response(status: status, headers: ["location": location])
    }
}
