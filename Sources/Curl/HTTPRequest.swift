/// An HTTP request for `CurlClient`. Bodies are streamed: from memory, or from a region of a
/// file (an upload spool), never read whole.
public struct HTTPRequest: Sendable {
    public enum Body: Sendable {
        case none
        case bytes([UInt8])
        /// `length` bytes of the file at `path` from `offset`.
        case file(path: String, offset: Int64, length: Int64)
    }

    public var method: String
    public var url: String
    public var headers: [(String, String)]
    public var body: Body
    /// The whole transfer's limit in seconds (CURLOPT_TIMEOUT); nil: only the connect and
    /// low-speed limits of `CurlOptions`.
    public var timeoutSeconds: Int?
    /// `host:port:address` entries (CURLOPT_RESOLVE): the request connects to these addresses
    /// instead of asking DNS, so an address checked before the request is the one it reaches.
    public var pinnedAddresses: [String] = []

    public init(method: String = "GET", url: String, headers: [(String, String)] = [], body: Body = .none) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }

    /// A form post (`application/x-www-form-urlencoded`), as OAuth token endpoints take.
    public static func form(url: String, _ fields: [(String, String)], headers: [(String, String)] = []) -> HTTPRequest {
        let body = fields.map { "\(FormEncoding.encode($0.0))=\(FormEncoding.encode($0.1))" }.joined(separator: "&")
        return HTTPRequest(method: "POST", url: url, headers: headers + [("Content-Type", "application/x-www-form-urlencoded")],
                           body: .bytes(Array(body.utf8)))
    }

    /// For logs: the method and URL with secrets in the query replaced, and no header values.
    public var redactedDescription: String {
        "\(method) \(Redaction.url(url))"
    }
}

/// A response: status, headers (names lower-cased) and, when collected, the body.
public struct HTTPResponse: Sendable {
    public let status: Int
    public let headers: [(String, String)]
    public let body: [UInt8]

    /// A response as received (or, in tests, as a provider would answer).
    public init(status: Int, headers: [(String, String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public func header(_ name: String) -> String? {
        let key = name.lowercased()
        return headers.last { $0.0 == key }?.1
    }

    public var text: String { String(decoding: body, as: UTF8.self) }
}

/// Keeps tokens out of logs.
public enum Redaction {
    static let secretParameters: Set<String> = ["access_token", "refresh_token", "code", "client_secret", "token", "code_verifier"]

    /// The URL with the values of secret query parameters replaced by `REDACTED`.
    public static func url(_ url: String) -> String {
        guard let q = url.firstIndex(of: "?") else { return url }
        let query = url[url.index(after: q)...].split(separator: "&").map { pair -> String in
            let name = pair.split(separator: "=", maxSplits: 1).first.map(String.init) ?? ""
            return secretParameters.contains(name) ? "\(name)=REDACTED" : String(pair)
        }
        return String(url[...q]) + query.joined(separator: "&")
    }
}

/// Percent-encoding for form bodies (RFC 3986 unreserved characters kept).
public enum FormEncoding {
    public static func encode(_ text: String) -> String {
        var out = ""
        for b in text.utf8 {
            switch b {
            case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, 0x2D, 0x2E, 0x5F, 0x7E: out.unicodeScalars.append(Unicode.Scalar(b))
            default:
                let hex = Array("0123456789ABCDEF")
                out.append("%")
                out.append(hex[Int(b >> 4)])
                out.append(hex[Int(b & 0xF)])
            }
        }
        return out
    }
}
