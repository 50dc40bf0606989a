import CFastCGI
@testable import FastCGI
import Testing
import TestSupport
import Web
#if canImport(Glibc)
import Glibc
#endif

/// One FastCGI request end to end, without nginx. The test plays nginx — it writes the records of
/// the FastCGI 1.0 specification (section 8: BEGIN_REQUEST, PARAMS, STDIN; STDOUT and END_REQUEST
/// back) on a unix socket — and plays the worker's accept thread with the libfcgi calls
/// `FastCGIWorker` makes (FCGX_InitRequest on the listening socket, FCGX_Accept_r, FCGX_Finish_r),
/// so that `makeRequest`, the body stream and the response writer run against real records.
/// `FastCGIWorker.run` itself wants fd 0 and the process's signals, so it is left to the
/// end-to-end tests. This is the one test that imports the C module: it stands in for the
/// wrapper's own accept loop.
@Suite("One FastCGI request over a real socket", .serialized)
struct FastCGIRequestTests {
    @Test("nginx's params become the request: method, path and query, remote address, request id, headers from HTTP_*, cookies, declared length")
    func params() throws {
        try withConnection { web, worker in
            let agent = String(repeating: "A", count: 300)  // over 127 bytes: a four-byte length
            web.send(FastCGIRecord.begin() + FastCGIRecord.params([
                ("REQUEST_METHOD", "POST"), ("REQUEST_URI", "/p/demo/upload?step=2&x=%20"), ("REMOTE_ADDR", "192.0.2.7"),
                ("REQUEST_ID", "0123456789abcdef0123456789abcdef"), ("CONTENT_TYPE", "multipart/form-data; boundary=x"),
                ("CONTENT_LENGTH", "11"), ("HTTP_COOKIE", "intake_csrf=t0k; theme=dark"), ("HTTP_X_CSRF_TOKEN", "t0k"),
                ("HTTP_ACCEPT_LANGUAGE", "en"), ("HTTP_USER_AGENT", agent), ("SERVER_SOFTWARE", "nginx"), ("SCRIPT_FILENAME", "/x"),
            ]) + FastCGIRecord.stdin([]))
            let request = try worker.accept()
            #expect(request.method == .post)
            #expect(request.path == "/p/demo/upload" && request.rawQuery == "step=2&x=%20")
            #expect(request.remoteAddress == "192.0.2.7")
            #expect(request.id == "0123456789abcdef0123456789abcdef")
            #expect(request.headers["content-type"] == "multipart/form-data; boundary=x")
            #expect(request.headers["content-length"] == "11" && request.body.declaredLength == 11)
            #expect(request.headers["x-csrf-token"] == "t0k", "HTTP_X_CSRF_TOKEN: underscores become dashes")
            #expect(request.headers["accept-language"] == "en" && request.headers["user-agent"] == agent)
            #expect(request.cookies == ["intake_csrf": "t0k", "theme": "dark"])
            let names = request.headers.map(\.name)
            #expect(!names.contains("server-software") && !names.contains("script-filename") && !names.contains("fcgi-role"),
                    "only HTTP_* params and the content fields are headers: \(names)")
            worker.finish()
        }
    }

    @Test("what nginx leaves out gets defaults: a random 32-hex-digit id, no declared length, no empty content type")
    func defaults() throws {
        try withConnection { web, worker in
            web.send(FastCGIRecord.begin() + FastCGIRecord.params([("REQUEST_METHOD", "GET"), ("REQUEST_URI", "/healthz"), ("CONTENT_TYPE", "")])
                     + FastCGIRecord.stdin([]))
            let request = try worker.accept()
            #expect(request.method == .get && request.path == "/healthz" && request.rawQuery.isEmpty)
            #expect(request.id.count == 32 && request.id.allSatisfy(\.isHexDigit))
            #expect(request.body.declaredLength == nil && !request.headers.contains("content-type"))
            var buffer = [UInt8](repeating: 0, count: 100)
            #expect(try buffer.withUnsafeMutableBytes { try request.body.read(into: $0) } == 0, "an empty body ends at once")
            worker.finish()
        }
        #expect(FastCGIWorker.randomID() != FastCGIWorker.randomID())
    }

    @Test("a body read returns what has arrived instead of waiting to fill the buffer, then the rest, then the end")
    func partialReads() throws {
        try withConnection { web, worker in
            web.send(FastCGIRecord.begin() + FastCGIRecord.params([("REQUEST_METHOD", "PUT"), ("REQUEST_URI", "/u"), ("CONTENT_LENGTH", "11")])
                     + FastCGIRecord.stdin(Array("hello ".utf8)))
            let request = try worker.accept()
            var buffer = [UInt8](repeating: 0, count: 65_536)
            // Only six bytes were sent: a read that waited for 64 KiB would wait until the socket's
            // timeout (see accept()), then fail the stream.
            let started = monotonicSeconds()
            let first = try buffer.withUnsafeMutableBytes { try request.body.read(into: $0) }
            #expect(monotonicSeconds() - started < 2, "answered with what had arrived")
            #expect(Array(buffer[0..<first]) == Array("hello ".utf8))
            web.send(FastCGIRecord.stdin(Array("wor".utf8)) + FastCGIRecord.stdin(Array("ld".utf8)) + FastCGIRecord.stdin([]))
            var rest: [UInt8] = []
            while true {
                let n = try buffer.withUnsafeMutableBytes { try request.body.read(into: $0) }
                if n == 0 { break }
                rest += buffer[0..<n]
            }
            #expect(String(decoding: rest, as: UTF8.self) == "world" && request.body.bytesRead == 11)
            worker.finish()
        }
    }

    @Test("a client gone mid-body: the bytes that arrived are handed over first, the failure comes at the next read")
    func clientGone() throws {
        try withConnection { web, worker in
            web.send(FastCGIRecord.begin() + FastCGIRecord.params([("REQUEST_METHOD", "PATCH"), ("REQUEST_URI", "/t"), ("CONTENT_LENGTH", "100")])
                     + FastCGIRecord.stdin(Array("abc".utf8)))
            let request = try worker.accept()
            web.hangUp()
            var buffer = [UInt8](repeating: 0, count: 100)
            let n = try buffer.withUnsafeMutableBytes { try request.body.read(into: $0) }
            #expect(Array(buffer[0..<n]) == Array("abc".utf8))
            let error = try #require(throws: FastCGIError.self) { try buffer.withUnsafeMutableBytes { try request.body.read(into: $0) } }
            #expect(error.description.hasPrefix("client gone: reading the request body failed"))
            worker.finish()
        }
    }

    @Test("the answer: Status first, header names in their usual case, a value with CR or LF dropped, Content-Length when known, the request id, then the body")
    func response() throws {
        try withConnection { web, worker in
            web.send(FastCGIRecord.begin() + FastCGIRecord.params([("REQUEST_METHOD", "GET"), ("REQUEST_URI", "/")]) + FastCGIRecord.stdin([]))
            _ = try worker.accept()
            var headers = HTTPHeaders()
            headers.add("content-type", "text/plain; charset=utf-8")
            headers.add("x-split", "a\r\nSet-Cookie: stolen=1")
            headers.add("x-newline", "a\nb")
            headers.add("set-cookie", "a=1")
            headers.add("set-cookie", "b=2")
            headers.add("x-content-type-options", "nosniff")
            let body = Array("hello world".utf8)
            let writer = worker.writer()
            try writer.writeHead(Response(status: HTTPStatus(201, "Created"), headers: headers, body: .bytes(body)), requestID: "req-1")
            try writer.write(body)
            writer.flush()
            #expect(writer.bodyBytes == 11, "headers are not counted as body")
            worker.finish()
            let answer = web.answer()
            #expect(answer.ended, "END_REQUEST was sent")
            #expect(String(decoding: answer.stdout, as: UTF8.self) == """
                Status: 201 Created\r
                Content-Type: text/plain; charset=utf-8\r
                Set-Cookie: a=1\r
                Set-Cookie: b=2\r
                X-Content-Type-Options: nosniff\r
                Content-Length: 11\r
                X-Request-Id: req-1\r
                \r
                hello world
                """)
        }
    }

    @Test("a body larger than libfcgi's buffers goes out whole; a declared Content-Length is kept, not doubled")
    func largeBody() throws {
        try withConnection { web, worker in
            web.send(FastCGIRecord.begin() + FastCGIRecord.params([("REQUEST_METHOD", "GET"), ("REQUEST_URI", "/d")]) + FastCGIRecord.stdin([]))
            _ = try worker.accept()
            let body = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 13) }
            let writer = worker.writer()
            // nginx's side reads all along (see WebServerSide): 200 KB is more than a socket buffer holds.
            try writer.writeHead(Response(headers: ["content-length": "200000"], body: .bytes(body)), requestID: "r")
            for start in stride(from: 0, to: body.count, by: 70_001) {
                try writer.write(Array(body[start..<min(start + 70_001, body.count)]))
            }
            worker.finish()
            let answer = web.answer()
            let text = answer.stdout.prefix(200)
            let head = "Status: 200 OK\r\nContent-Length: 200000\r\nX-Request-Id: r\r\n\r\n"
            #expect(String(decoding: text.prefix(head.utf8.count), as: UTF8.self) == head)
            #expect(Array(answer.stdout.dropFirst(head.utf8.count)) == body && writer.bodyBytes == 200_000 && answer.ended)
        }
    }

    @Test("header names as nginx sends them become the usual case; underscores become dashes", arguments: [
        ("content-type", "Content-Type"), ("x-request-id", "X-Request-Id"), ("etag", "Etag"), ("www-authenticate", "Www-Authenticate"),
        ("x--double", "X--Double"), ("-leading", "-Leading"), ("", ""),
    ])
    func canonical(name: String, expected: String) {
        #expect(FastCGIResponseWriter.canonical(name) == expected)
    }

    @Test("HTTP_* names: upper case becomes lower, underscores become dashes, nothing else changes", arguments: [
        ("ACCEPT_LANGUAGE", "accept-language"), ("X__Y_", "x--y-"), ("plain", "plain"), ("X_CSRF_TOKEN2", "x-csrf-token2"), ("", ""),
        ("CAF\u{C9}", "caf\u{C9}"),
    ])
    func headerNames(nginx: String, expected: String) {
        let name = Array(nginx.utf8)
        #expect(name.withUnsafeBufferPointer { FastCGIWorker.headerName($0) } == expected)
    }

    @Test("a header name that is not UTF-8 is repaired, as every string is")
    func headerNameRepaired() {
        let name: [UInt8] = [0x58, 0xFF, 0x5F, 0x41]
        #expect([UInt8](name.withUnsafeBufferPointer { FastCGIWorker.headerName($0) }.utf8) == [0x78, 0xEF, 0xBF, 0xBD, 0x2D, 0x61])
    }

    /// A listening socket in a temporary folder, nginx's connection to it, and the worker's request on it.
    func withConnection(_ body: (WebServerSide, WorkerSide) throws -> Void) throws {
        try withTemporaryDirectory("intake-fcgi") { dir in
            let listener = try ListenSocket(.unix(path: dir + "/worker.sock"))
            let web = try WebServerSide(path: dir + "/worker.sock")
            defer { _ = web.answer() }  // last: the worker has closed its end, so nginx's reader has seen the end
            defer { listener.closeAndRemove() }
            let worker = try WorkerSide(listening: listener.fd)
            defer { worker.release() }
            try body(web, worker)
        }
    }
}

/// FastCGI 1.0 records (specification, section 3.3), as nginx writes them for one request, id 1.
enum FastCGIRecord {
    static let version: UInt8 = 1
    static let beginRequest: UInt8 = 1, endRequest: UInt8 = 3, params: UInt8 = 4, stdin: UInt8 = 5, stdout: UInt8 = 6, stderr: UInt8 = 7

    /// A record: version, type, request id, content length, padding length, reserved; content; padding to 8 bytes.
    static func record(_ type: UInt8, _ content: [UInt8]) -> [UInt8] {
        precondition(content.count <= 65_535)
        let padding = (8 - content.count % 8) % 8
        return [version, type, 0, 1, UInt8(content.count >> 8), UInt8(content.count & 0xFF), UInt8(padding), 0]
            + content + [UInt8](repeating: 0, count: padding)
    }

    /// BEGIN_REQUEST for the responder role, without FCGI_KEEP_CONN: the worker closes after answering.
    static func begin() -> [UInt8] { record(beginRequest, [0, 1, 0, 0, 0, 0, 0, 0]) }

    /// The params as name-value pairs (one byte for a length below 128, else four with the top bit
    /// set), then the empty PARAMS record that ends them.
    static func params(_ pairs: [(String, String)]) -> [UInt8] {
        func length(_ n: Int) -> [UInt8] {
            n < 128 ? [UInt8(n)] : [UInt8(n >> 24) | 0x80, UInt8((n >> 16) & 0xFF), UInt8((n >> 8) & 0xFF), UInt8(n & 0xFF)]
        }
        var content: [UInt8] = []
        for (name, value) in pairs {
            content += length(name.utf8.count) + length(value.utf8.count) + Array(name.utf8) + Array(value.utf8)
        }
        return record(params, content) + record(params, [])
    }

    /// A piece of the body; an empty one ends it.
    static func stdin(_ bytes: [UInt8]) -> [UInt8] { record(stdin, bytes) }
}

/// nginx's end of the connection. It reads from the start, on a thread of its own, until the
/// worker closes, then closes too, as nginx does: libfcgi's close waits (up to 2 s) for the web
/// server to close its side, and a long answer must be read while it is written.
final class WebServerSide: @unchecked Sendable {  // fd set once; `received` written by the reader thread only, read after joining it
    private let fd: Int32
    private var received: [UInt8] = []
    private var reader: pthread_t?

    init(path: String) throws {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var address = try ListenSocket.unixAddress(path)
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard rc == 0 else { let e = errno; close(fd); throw FastCGIError.system("connect \(path)", errno: e) }
        // A worker that never answers fails the test instead of hanging it.
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        reader = try FastCGI.startThread { [self] in readUntilClosed() }
    }

    func send(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { return }
            offset += n
        }
    }

    /// Drops the connection both ways, as a client that went away does.
    func hangUp() { shutdown(fd, Int32(SHUT_RDWR)) }

    private func readUntilClosed() {
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            received += chunk[0..<n]
        }
        close(fd)
    }

    /// Waits until the worker has closed the connection, then reads the records it sent: the
    /// STDOUT bytes, and whether END_REQUEST came.
    func answer() -> (stdout: [UInt8], ended: Bool) {
        if let reader { pthread_join(reader, nil) }
        reader = nil
        var stdout: [UInt8] = []
        var ended = false
        var at = 0
        while at + 8 <= received.count {
            let type = received[at + 1]
            let length = Int(received[at + 4]) << 8 | Int(received[at + 5])
            let padding = Int(received[at + 6])
            guard at + 8 + length + padding <= received.count else { break }
            if type == FastCGIRecord.stdout { stdout += received[(at + 8)..<(at + 8 + length)] }
            if type == FastCGIRecord.endRequest { ended = true }
            at += 8 + length + padding
        }
        return (stdout, ended)
    }
}

/// The worker's end: one `FCGX_Request` on the listening socket, as an accept thread holds it.
final class WorkerSide {
    private let raw: UnsafeMutablePointer<FCGX_Request>

    init(listening fd: Int32) throws {
        signal(SIGPIPE, SIG_IGN)  // as FastCGIWorker.run does: a write to a client gone is an error, not a signal
        guard FCGX_Init() == 0 else { throw FastCGIError.system("FCGX_Init", errno: 0) }
        raw = .allocate(capacity: 1)
        FCGX_InitRequest(raw, fd, 0)  // fills the struct in place; cannot fail
    }

    deinit { raw.deallocate() }

    /// What the accept thread does when it stops: frees the request and closes its connection, if
    /// `finish` has not.
    func release() { FCGX_Free(raw, 1) }

    /// Accepts the pending connection and reads its params, then builds the request as the accept
    /// thread does. A body read that waits for bytes never sent times out (an error) instead of
    /// hanging the test.
    func accept() throws -> Request {
        guard FCGX_Accept_r(raw) == 0, let input = cfcgi_request_in(raw) else { throw FastCGIError.system("FCGX_Accept_r", errno: errno) }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(cfcgi_request_fd(raw), SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        return FastCGIWorker.makeRequest(raw, body: FastCGIBodyStream(input, socket: cfcgi_request_fd(raw)))
    }

    func writer() -> FastCGIResponseWriter { FastCGIResponseWriter(cfcgi_request_out(raw)!) }

    /// Ends the request: flushes, sends END_REQUEST and closes the connection.
    func finish() { FCGX_Finish_r(raw) }
}
