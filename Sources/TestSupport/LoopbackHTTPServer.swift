import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A request as the loopback server read it.
public struct LoopbackRequest: Sendable {
    public let method: String
    /// The path without the query.
    public let path: String
    public let query: [String: String]
    /// Header names lower-cased.
    public let headers: [String: String]
    public let body: [UInt8]

    /// The body as an urlencoded form.
    public var form: [String: String] { LoopbackHTTPServer.decodeForm(String(decoding: body, as: UTF8.self)) }

    /// A `POST` or `PUT` that declares no length — neither `Content-Length` nor a chunked body —
    /// which some front ends (Google's among them) refuse with 411 even when there is no body.
    public var lacksLength: Bool {
        (method == "POST" || method == "PUT") && headers["content-length"] == nil && headers["transfer-encoding"] == nil
    }
}

/// What the loopback server does in answer.
public struct LoopbackResponse: Sendable {
    public enum Behaviour: Sendable {
        case respond
        /// Close the connection without answering (a dropped connection).
        case drop
        /// Wait this many seconds before answering (a stalled peer).
        case delay(Double)
        /// Send the head (with the full `Content-Length`) and this many bytes of the body, then
        /// close: a download cut short.
        case cutAfter(Int)
    }
    public var status: Int
    public var headers: [(String, String)]
    public var body: [UInt8]
    public var behaviour: Behaviour

    public init(status: Int = 200, headers: [(String, String)] = [], body: [UInt8] = [], behaviour: Behaviour = .respond) {
        self.status = status
        self.headers = headers
        self.body = body
        self.behaviour = behaviour
    }

    /// File content as a download answers it: 200 with all of it, or 206 with `Content-Range` for
    /// a `Range: bytes=N-` (or `N-M`) request; a range past the end is 416.
    public static func content(_ bytes: [UInt8], range: String?, headers: [(String, String)] = []) -> LoopbackResponse {
        let base = headers + [("Content-Type", "application/octet-stream"), ("Accept-Ranges", "bytes")]
        guard let range, range.hasPrefix("bytes=") else { return LoopbackResponse(status: 200, headers: base, body: bytes) }
        let bounds = range.dropFirst("bytes=".count).split(separator: "-", omittingEmptySubsequences: false)
        guard bounds.count == 2, let first = Int(bounds[0]), first < bytes.count else {
            return LoopbackResponse(status: 416, headers: [("Content-Range", "bytes */\(bytes.count)")])
        }
        let last = min(bounds[1].isEmpty ? bytes.count - 1 : Int(bounds[1]) ?? bytes.count - 1, bytes.count - 1)
        return LoopbackResponse(status: 206, headers: base + [("Content-Range", "bytes \(first)-\(last)/\(bytes.count)")],
                                body: Array(bytes[first...last]))
    }

    /// 411 as a front end answers it, before the API sees the request.
    public static func lengthRequired(_ request: LoopbackRequest) -> LoopbackResponse {
        LoopbackResponse(status: 411, headers: [("Content-Type", "text/html; charset=UTF-8")],
                         body: Array("<p><b>411.</b> <ins>That’s an error.</ins></p><p>\(request.method) requests require a <code>Content-length</code> header.</p>".utf8))
    }

    public static func json(_ text: String, status: Int = 200, headers: [(String, String)] = []) -> LoopbackResponse {
        LoopbackResponse(status: status, headers: headers + [("Content-Type", "application/json")], body: Array(text.utf8))
    }
}

/// A small HTTP/1.1 server on 127.0.0.1 and a free port, one thread per connection: the base of
/// the tests' fake Google and Dropbox servers. It reads `Content-Length` and chunked bodies. By
/// default every answer says `Connection: close`; with `keepAlive` a connection serves request
/// after request, as real front ends do, so a client reuses it — and a `.drop` then happens on a
/// connection the client believed alive (where libcurl resends the request on a new one).
public final class LoopbackHTTPServer: @unchecked Sendable {  // fd and flags guarded by lock
    public let port: UInt16
    private let fd: Int32
    private let keepAlive: Bool
    private let handler: @Sendable (LoopbackRequest) -> LoopbackResponse
    private let lock = NSLock()
    private var running = true

    public init(keepAlive: Bool = false, handler: @escaping @Sendable (LoopbackRequest) -> LoopbackResponse) throws {
        self.keepAlive = keepAlive
        self.handler = handler
        (fd, port) = try LoopbackListener.open(backlog: 128, what: "loopback server")
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    deinit { stop() }

    public var baseURL: String { "http://127.0.0.1:\(port)" }

    public func stop() {
        let wasRunning = lock.withLock { () -> Bool in
            let r = running
            running = false
            return r
        }
        if wasRunning {
            shutdown(fd, Int32(SHUT_RDWR))
            close(fd)
        }
    }

    private func acceptLoop() {
        while lock.withLock({ running }) {
            let client = accept(fd, nil, nil)
            if client < 0 { if errno == EINTR { continue } else { return } }
            let thread = Thread { [self] in serve(client) }
            thread.start()
        }
    }

    private func serve(_ client: Int32) {
        defer { close(client) }
        var tv = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var pending: [UInt8] = []
        while let request = readRequest(client, pending: &pending) {
            let response = handler(request)
            var sent = response.body.count
            var keep = keepAlive && request.headers["connection"]?.lowercased() != "close"
            switch response.behaviour {
            case .drop: return
            case .delay(let seconds): Thread.sleep(forTimeInterval: seconds)
            case .cutAfter(let count):
                sent = min(count, sent)
                keep = false
            case .respond: break
            }
            var head = "HTTP/1.1 \(response.status) \(Self.reason(response.status))\r\n"
            for (name, value) in response.headers { head += "\(name): \(value)\r\n" }
            head += "Content-Length: \(response.body.count)\r\nConnection: \(keep ? "keep-alive" : "close")\r\n\r\n"
            guard (try? HTTPClient.send(client, Array(head.utf8) + (request.method == "HEAD" ? [] : response.body.prefix(sent)))) != nil, keep else { return }
        }
    }

    /// One request from the connection; `pending` holds what was read past the previous one and
    /// keeps what is read past this one.
    private func readRequest(_ client: Int32, pending: inout [UInt8]) -> LoopbackRequest? {
        var data = pending
        pending = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        var headerEnd = HTTPClient.find(data, Array("\r\n\r\n".utf8))
        while headerEnd == nil {
            let n = buffer.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { return nil }
            data.append(contentsOf: buffer[0..<n])
            headerEnd = HTTPClient.find(data, Array("\r\n\r\n".utf8))
        }
        let head = String(decoding: data[0..<headerEnd!], as: UTF8.self).components(separatedBy: "\r\n")
        let requestLine = head[0].split(separator: " ")
        guard requestLine.count >= 2 else { return nil }
        var headers: [String: String] = [:]
        for line in head.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        var body = Array(data[(headerEnd! + 4)...])
        func fill(until done: () -> Bool) -> Bool {
            while !done() {
                let n = buffer.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
                guard n > 0 else { return false }
                body.append(contentsOf: buffer[0..<n])
            }
            return true
        }
        if let length = headers["content-length"].flatMap(Int.init) {
            guard fill(until: { body.count >= length }) else { return nil }
            pending = Array(body[length...])
            body = Array(body.prefix(length))
        } else if headers["transfer-encoding"]?.lowercased() == "chunked" {
            guard fill(until: { HTTPClient.find(body, Array("0\r\n\r\n".utf8)) != nil }), let decoded = try? HTTPClient.dechunk(body) else { return nil }
            body = decoded
        } else {
            pending = body
            body = []
        }
        let target = String(requestLine[1])
        let path = String(target.split(separator: "?", maxSplits: 1)[0])
        let query = target.contains("?") ? Self.decodeForm(String(target.split(separator: "?", maxSplits: 1)[1])) : [:]
        return LoopbackRequest(method: String(requestLine[0]), path: path, query: query, headers: headers, body: body)
    }

    static func decodeForm(_ text: String) -> [String: String] {
        var out: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map { String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String($0) }
            if let name = parts.first { out[name] = parts.count > 1 ? parts[1] : "" }
        }
        return out
    }

    static func reason(_ status: Int) -> String {
        [200: "OK", 201: "Created", 204: "No Content", 206: "Partial Content", 416: "Range Not Satisfiable", 302: "Found", 308: "Permanent Redirect", 400: "Bad Request", 401: "Unauthorized",
         403: "Forbidden", 404: "Not Found", 411: "Length Required", 409: "Conflict", 429: "Too Many Requests", 500: "Internal Server Error", 503: "Service Unavailable"][status] ?? "Status"
    }
}
