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

    /// Writes the CGI header block (`Status:` first, then the fields, then a blank line): its
    /// largest size is added up first, then every piece is copied into one buffer, which goes to
    /// libfcgi in one call.
    func writeHead(_ response: Response, requestID: String) throws {
        let code = String(response.status.code)
        var size = "Status: ".utf8.count + code.utf8.count + 1 + response.status.reason.utf8.count + 2
        var hasLength = false
        for (name, value) in response.headers {
            if name == "content-length" { hasLength = true }
            size += name.utf8.count + 2 + value.utf8.count + 2
        }
        let length = hasLength ? nil : response.knownLength.map { String($0) }
        if let length { size += "Content-Length: ".utf8.count + length.utf8.count + 2 }
        size += "X-Request-Id: ".utf8.count + requestID.utf8.count + 4
        let head = [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
            var out = HeadWriter(buffer)
            out.append("Status: ")
            out.append(code)
            out.append(" ")
            out.append(response.status.reason)
            out.append("\r\n")
            for (name, value) in response.headers {
                let start = out.count
                out.appendCanonical(name)
                out.append(": ")
                // A header value with CR or LF would let a caller split the response; it is dropped.
                guard out.appendUnlessLineBreak(value) else {
                    out.count = start
                    continue
                }
                out.append("\r\n")
            }
            if let length {
                out.append("Content-Length: ")
                out.append(length)
                out.append("\r\n")
            }
            out.append("X-Request-Id: ")
            out.append(requestID)
            out.append("\r\n\r\n")
            count = out.count
        }
        try put(head)
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
        String(unsafeUninitializedCapacity: name.utf8.count) { buffer in
            var out = HeadWriter(buffer)
            out.appendCanonical(name)
            return out.count
        }
    }
}

/// Copies strings into a buffer sized for them beforehand (`writeHead` adds the sizes up).
private struct HeadWriter {
    let buffer: UnsafeMutableBufferPointer<UInt8>
    var count = 0

    init(_ buffer: UnsafeMutableBufferPointer<UInt8>) { self.buffer = buffer }

    /// The next free byte, with room for `n` more checked.
    @inline(__always)
    private func room(_ n: Int) -> UnsafeMutablePointer<UInt8> {
        precondition(count + n <= buffer.count, "response head larger than counted")
        return buffer.baseAddress! + count
    }

    mutating func append(_ text: String) {
        var text = text
        text.withUTF8 { bytes in
            if let base = bytes.baseAddress { room(bytes.count).update(from: base, count: bytes.count) }
            count += bytes.count
        }
    }

    /// Appends `text` unless it holds CR or LF; returns whether it did.
    mutating func appendUnlessLineBreak(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { bytes in
            guard let base = bytes.baseAddress else { return true }
            guard memchr(base, 13, bytes.count) == nil, memchr(base, 10, bytes.count) == nil else { return false }
            room(bytes.count).update(from: base, count: bytes.count)
            count += bytes.count
            return true
        }
    }

    /// `name` with the first letter and each letter after a dash in upper case (ASCII letters
    /// only: field names are ASCII tokens, RFC 9110 §5.1).
    mutating func appendCanonical(_ name: String) {
        var name = name
        name.withUTF8 { bytes in
            let out = room(bytes.count)
            var upper = true
            for (i, b) in bytes.enumerated() {
                out[i] = upper && b >= 97 && b <= 122 ? b - 32 : b
                upper = b == UInt8(ascii: "-")
            }
            count += bytes.count
        }
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
