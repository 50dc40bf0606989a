import CFastCGI
import Web
#if canImport(Glibc)
import Glibc
#endif

/// The request body as libfcgi's input stream delivers it, read on demand: each read returns as
/// soon as some bytes are there (`cfcgi_read_some`), so a handler sees the start of a body that
/// stalls, and can refuse it, instead of waiting for a full buffer.
final class FastCGIBodyStream: RequestBodyStream {
    private let stream: UnsafeMutablePointer<FCGX_Stream>
    private let socket: Int32

    init(_ stream: UnsafeMutablePointer<FCGX_Stream>, socket: Int32) {
        self.stream = stream
        self.socket = socket
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return 0 }
        let n = cfcgi_read_some(stream, socket, base.assumingMemoryBound(to: CChar.self), Int32(clamping: buffer.count))
        // Bytes that arrived before the connection failed are still the client's: hand them over,
        // and report the failure at the next read (a resumable upload keeps what arrived).
        if n > 0 { return Int(n) }
        if n < 0 || FCGX_GetError(stream) != 0 {
            throw FastCGIError.clientGone("reading the request body failed (error \(FCGX_GetError(stream)))")
        }
        return Int(n)
    }
}

/// The response as libfcgi's output stream takes it (`FCGX_PutStr`), counting what was sent.
final class FastCGIResponseWriter: ResponseBodyWriter {
    private let stream: UnsafeMutablePointer<FCGX_Stream>
    /// Body bytes written so far (headers excluded).
    private(set) var bodyBytes = 0
    private var inBody = false

    init(_ stream: UnsafeMutablePointer<FCGX_Stream>) { self.stream = stream }

    /// Writes the CGI header block (`Status:` first, then the fields, then a blank line).
    func writeHead(_ response: Response, requestID: String) throws {
        var head = "Status: \(response.status.code) \(response.status.reason)\r\n"
        for (name, value) in response.headers {
            // A header value with CR or LF would let a caller split the response; drop it.
            guard !value.utf8.contains(where: { $0 == 13 || $0 == 10 }) else { continue }
            head += Self.canonical(name) + ": " + value + "\r\n"
        }
        if let length = response.knownLength, !response.headers.contains("content-length") {
            head += "Content-Length: \(length)\r\n"
        }
        head += "X-Request-Id: \(requestID)\r\n\r\n"
        try put(Array(head.utf8))
        inBody = true
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        var offset = 0
        while offset < bytes.count {
            let n = min(bytes.count - offset, Int(Int32.max))
            let written = FCGX_PutStr(base.advanced(by: offset).assumingMemoryBound(to: CChar.self), Int32(n), stream)
            guard written == Int32(n) else { throw FastCGIError.clientGone("writing the response failed") }
            offset += n
        }
        if inBody { bodyBytes += bytes.count }
    }

    /// Pushes buffered output to nginx now.
    func flush() { FCGX_FFlush(stream) }

    private func put(_ bytes: [UInt8]) throws { try bytes.withUnsafeBytes { try write($0) } }

    /// `content-type` → `Content-Type`, for readable responses (HTTP itself does not care).
    static func canonical(_ name: String) -> String {
        var result = ""
        var upper = true
        for c in name {
            result.append(upper ? Character(c.uppercased()) : c)
            upper = c == "-"
        }
        return result
    }
}

/// Failures of the FastCGI transport.
public enum FastCGIError: Error, CustomStringConvertible {
    /// The web server closed the connection (the client went away).
    case clientGone(String)
    /// A system call failed while setting up sockets, processes or threads.
    case system(String, errno: Int32)

    public var description: String {
        switch self {
        case .clientGone(let what): return "client gone: \(what)"
        case .system(let what, let e): return "\(what): \(String(cString: strerror(e))) (errno \(e))"
        }
    }
}
