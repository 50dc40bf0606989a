import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A response as the test client read it off the wire.
public struct HTTPResult: Sendable {
    public let status: Int
    /// Header names lower-cased.
    public let headers: [String: String]
    public let body: [UInt8]
    /// Every `Set-Cookie` header, in order (they cannot be folded into one line).
    public let setCookies: [String]
    public var text: String { String(decoding: body, as: UTF8.self) }
}

/// A deliberately small HTTP/1.1 client over a plain TCP socket (`Connection: close`), so tests
/// control every byte they send — malformed requests, slow bodies — and depend on nothing.
public enum HTTPClient {
    public enum Failure: Error, CustomStringConvertible {
        case connect(Int32)
        case io(String)
        case malformed(String)
        public var description: String {
            switch self {
            case .connect(let e): return "connect failed (errno \(e))"
            case .io(let s): return "I/O: \(s)"
            case .malformed(let s): return "malformed response: \(s)"
            }
        }
    }

    /// Sends one request to 127.0.0.1:`port` and reads the whole response.
    public static func request(
        port: UInt16, method: String = "GET", path: String, headers: [(String, String)] = [],
        body: [UInt8] = [], timeout: Double = 30
    ) throws -> HTTPResult {
        let fd = try connect(port: port, timeout: timeout)
        defer { close(fd) }
        try send(fd, head(method: method, path: path, headers: headers, bodyLength: body.count) + body)
        return try readResponse(fd)
    }

    /// Sends the head, then the body in `pieces`, pausing `pause` seconds between them: a slow client.
    public static func slowRequest(
        port: UInt16, method: String = "POST", path: String, headers: [(String, String)] = [],
        pieces: [[UInt8]], pause: Double
    ) throws -> HTTPResult {
        let fd = try connect(port: port, timeout: 60)
        defer { close(fd) }
        try send(fd, head(method: method, path: path, headers: headers, bodyLength: pieces.reduce(0) { $0 + $1.count }))
        for piece in pieces {
            usleep(UInt32(pause * 1_000_000))
            try send(fd, piece)
        }
        return try readResponse(fd)
    }

    /// Declares a body of `declaredLength` bytes, sends only `sent`, waits `pause` seconds and
    /// drops the connection: a client whose network failed mid-request.
    public static func cutRequest(port: UInt16, method: String, path: String, headers: [(String, String)], declaredLength: Int,
                                  sent: [UInt8], pause: Double = 0.3) throws {
        let fd = try connect(port: port, timeout: 30)
        defer { close(fd) }
        try send(fd, head(method: method, path: path, headers: headers, bodyLength: declaredLength) + sent)
        usleep(UInt32(pause * 1_000_000))
        shutdown(fd, Int32(SHUT_RDWR))
    }

    /// Declares a body of `declaredLength` bytes, sends only `sent`, and waits (at most `timeout`
    /// seconds) for an answer without sending more: a server that refuses early answers at once.
    /// Returns the answer and how long it took.
    public static func answerBeforeBody(port: UInt16, method: String = "POST", path: String, headers: [(String, String)], declaredLength: Int64,
                                        sent: [UInt8], timeout: Double = 10) throws -> (result: HTTPResult, seconds: Double) {
        let fd = try connect(port: port, timeout: timeout)
        defer { close(fd) }
        var text = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        for (name, value) in headers { text += "\(name): \(value)\r\n" }
        text += "Content-Length: \(declaredLength)\r\n\r\n"
        let started = Date()
        try send(fd, Array(text.utf8) + sent)
        let result = try readResponse(fd)
        return (result, Date().timeIntervalSince(started))
    }

    /// Opens a TCP connection to loopback with send and receive timeouts.
    public static func connect(port: UInt16, timeout: Double) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure.connect(errno) }
        var tv = timeval(tv_sec: Int(timeout), tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else { let e = errno; close(fd); throw Failure.connect(e) }
        return fd
    }

    static func head(method: String, path: String, headers: [(String, String)], bodyLength: Int) -> [UInt8] {
        var text = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        for (name, value) in headers { text += "\(name): \(value)\r\n" }
        if bodyLength > 0 || method == "POST" || method == "PUT" || method == "PATCH" {
            text += "Content-Length: \(bodyLength)\r\n"
        }
        return Array((text + "\r\n").utf8)
    }

    public static func send(_ fd: Int32, _ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw Failure.io("send failed (errno \(errno))") }
            offset += n
        }
    }

    static func readResponse(_ fd: Int32) throws -> HTTPResult {
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { break }
            guard n > 0 else { throw Failure.io("recv failed (errno \(errno))") }
            data.append(contentsOf: buffer[0..<n])
        }
        guard let split = find(data, Array("\r\n\r\n".utf8)) else { throw Failure.malformed("no end of headers in \(data.count) bytes") }
        let headText = String(decoding: data[0..<split], as: UTF8.self)
        var lines = headText.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else { throw Failure.malformed("status line") }
        var headers: [String: String] = [:]
        var setCookies: [String] = []
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            if name == "set-cookie" { setCookies.append(value) }
            headers[name] = headers[name].map { $0 + ", " + value } ?? value
        }
        var body = Array(data[(split + 4)...])
        if headers["transfer-encoding"]?.lowercased() == "chunked" { body = try dechunk(body) }
        return HTTPResult(status: status, headers: headers, body: body, setCookies: setCookies)
    }

    static func dechunk(_ data: [UInt8]) throws -> [UInt8] {
        var out: [UInt8] = []
        var i = 0
        while true {
            guard let lineEnd = find(Array(data[i...]), [13, 10]) else { throw Failure.malformed("chunk size line") }
            let sizeText = String(decoding: data[i..<(i + lineEnd)], as: UTF8.self).split(separator: ";").first ?? ""
            guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16) else { throw Failure.malformed("chunk size") }
            i += lineEnd + 2
            if size == 0 { return out }
            guard i + size <= data.count else { throw Failure.malformed("truncated chunk") }
            out.append(contentsOf: data[i..<(i + size)])
            i += size + 2
        }
    }

    static func find(_ haystack: [UInt8], _ needle: [UInt8]) -> Int? {
        guard !needle.isEmpty, haystack.count >= needle.count else { return nil }
        var i = 0
        let last = haystack.count - needle.count
        outer: while i <= last {
            for k in 0..<needle.count where haystack[i + k] != needle[k] {
                i += 1
                continue outer
            }
            return i
        }
        return nil
    }
}
