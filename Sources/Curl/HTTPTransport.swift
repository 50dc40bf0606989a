/// What sends HTTP requests: `CurlClient` in production, a fake in tests. Code above the C
/// wrappers (OAuth, the domain's token refresh) names this protocol, never the libcurl client,
/// so it can be exercised without a socket.
public protocol HTTPTransport: AnyObject {
    /// Sends `request`. When `onBody` is given and the status is in `streams`, the body goes to
    /// `onBody` piece by piece; any other body is collected into the response. Throws for
    /// transport failures (`CurlError` from libcurl), or what `onBody` threw; an HTTP error status
    /// is a normal response.
    func perform(_ request: HTTPRequest, streams: ClosedRange<Int>, onBody: ((UnsafeRawBufferPointer) throws -> Void)?) throws -> HTTPResponse
}

/// What sends mail: `CurlClient` over SMTP in production, a fake in tests.
public protocol MailTransport: AnyObject {
    /// Sends one RFC 5322 message to `recipients` through the server at `url`; throws on any
    /// failure, so the outbox can retry later.
    func sendMail(url: String, from: String, to recipients: [String], message: [UInt8], username: String?, password: String?) throws
}

extension CurlClient: HTTPTransport, MailTransport {}
