import CFastCGI
import Logging
import Synchronization
import Web
#if canImport(Glibc)
import Glibc
#endif

/// Serves requests on one thread. Each accept thread makes its own handler, so a handler may
/// own thread-confined resources such as a database connection.
public protocol FastCGIHandler: AnyObject {
    /// Answers one request. A thrown error becomes a plain 500 and a log line.
    func respond(to request: Request) throws -> Response
    /// Hears that the answer to the request just given to `respond` is written, with its final
    /// status (499 when the client left during it) and the seconds since the request arrived —
    /// the figures of its log line. Called before the request is finished on the socket, so
    /// whatever it records is there before the client has the answer's last byte.
    func finished(status: HTTPStatus, seconds: Double)
}

extension FastCGIHandler {
    /// Hears nothing.
    public func finished(status: HTTPStatus, seconds: Double) {}
}

/// A FastCGI worker process: `threads` threads, each with its own `FCGX_Request`, looping on
/// `FCGX_Accept_r` over the listening socket at fd 0 (the FastCGI convention).
///
/// Shutdown (SIGTERM or SIGINT): the worker stops accepting, lets requests in flight finish
/// for up to `shutdownGrace` seconds, then returns. Idle threads blocked in accept(2) are woken
/// with SIGUSR1, whose handler only sets libfcgi's shutdown flag; busy threads are never
/// signalled, so a request in flight sees no EINTR.
public final class FastCGIWorker: Sendable {
    private let threadCount: Int
    private let shutdownGrace: Double
    private let logger: Logger
    /// The logger's handler when it writes standard error lines, for the request line.
    private let requestLines: StandardErrorLogHandler?
    private let makeHandler: @Sendable () throws -> FastCGIHandler

    /// A worker; nothing starts until `run`.
    public init(threads: Int, shutdownGrace: Double, logger: Logger, makeHandler: @escaping @Sendable () throws -> FastCGIHandler) {
        self.threadCount = threads
        self.shutdownGrace = shutdownGrace
        self.logger = logger
        self.requestLines = logger.handler as? StandardErrorLogHandler
        self.makeHandler = makeHandler
    }

    /// What each accept thread is doing, so shutdown signals only the idle ones.
    private enum Phase: Int { case starting = 0, accepting = 1, busy = 2, exited = 3 }

    private final class Slot: Sendable {
        let phase = Atomic<Int>(Phase.starting.rawValue)
        let thread = Mutex<pthread_t?>(nil)
    }

    /// How many threads have made their handler, and how many could not.
    private final class Startup: Sendable {
        let ready = Atomic<Int>(0)
        let failed = Atomic<Int>(0)
    }

    /// Runs until SIGTERM/SIGINT and the drain that follows. `onReady` runs once every thread has
    /// made its handler. Returns the process exit code.
    public func run(onReady: () -> Void) -> Int32 {
        // Block the stop signals in this thread before any other exists, so every thread inherits
        // the mask and only `sigtimedwait` below receives them.
        var stopSignals = signalSet([SIGTERM, SIGINT, SIGHUP])
        pthread_sigmask(SIG_BLOCK, &stopSignals, nil)
        var wake = signalSet([SIGUSR1])
        pthread_sigmask(SIG_UNBLOCK, &wake, nil)
        signal(SIGPIPE, SIG_IGN)
        guard cfcgi_install_shutdown_handler(SIGUSR1) == 0, FCGX_Init() == 0 else {
            logger.critical("cannot initialise libfcgi")
            return 1
        }
        guard MemoryLayout<FCGX_Request>.size == Int(cfcgi_request_size()) else {
            logger.critical("FCGX_Request layout mismatch")
            return 1
        }

        let slots = (0..<threadCount).map { _ in Slot() }
        let startup = Startup()
        var threads: [pthread_t] = []
        for slot in slots {
            do {
                let t = try startThread { [self] in
                    slot.thread.withLock { $0 = pthread_self() }
                    self.acceptLoop(slot: slot, startup: startup)
                    slot.phase.store(Phase.exited.rawValue, ordering: .sequentiallyConsistent)
                }
                threads.append(t)
            } catch {
                logger.critical("cannot start accept thread: \(error)")
                return 1
            }
        }
        // Wait until every thread has its handler (or one failed to make it).
        while startup.ready.load(ordering: .acquiring) + startup.failed.load(ordering: .acquiring) < threadCount { usleep(2_000) }
        if startup.failed.load(ordering: .acquiring) > 0 {
            logger.critical("a worker thread could not start; exiting")
            return 1
        }
        onReady()

        // Wait for a stop signal, or for every thread to have exited on its own (broken socket).
        var exitCode: Int32 = 0
        while true {
            if let s = waitForSignal([SIGTERM, SIGINT, SIGHUP], timeout: 1) {
                if s == SIGHUP { continue }  // the supervisor rolls workers; a worker ignores HUP
                logger.info("worker stopping", metadata: ["signal": "\(s)"])
                break
            }
            if slots.allSatisfy({ $0.phase.load(ordering: .acquiring) == Phase.exited.rawValue }) {
                logger.error("every accept thread has exited; is fd 0 a listening socket?")
                exitCode = 1
                break
            }
        }

        FCGX_ShutdownPending()
        let deadline = monotonicSeconds() + shutdownGrace
        while monotonicSeconds() < deadline {
            var running = 0
            for slot in slots {
                let phase = slot.phase.load(ordering: .acquiring)
                if phase == Phase.exited.rawValue { continue }
                running += 1
                // Signalled again on every pass: a signal that lands just before accept(2) is
                // called is handled but does not interrupt it (libfcgi's documented window).
                if phase == Phase.accepting.rawValue, let t = slot.thread.withLock({ $0 }) {
                    pthread_kill(t, SIGUSR1)
                }
            }
            if running == 0 { break }
            usleep(20_000)
        }
        let unfinished = slots.filter { $0.phase.load(ordering: .acquiring) == Phase.busy.rawValue }.count
        if unfinished > 0 {
            logger.warning("shutdown grace elapsed with requests in flight", metadata: ["requests": "\(unfinished)"])
            return exitCode
        }
        for t in threads { pthread_join(t, nil) }
        return exitCode
    }

    private func acceptLoop(slot: Slot, startup: Startup) {
        let handler: FastCGIHandler
        do {
            handler = try makeHandler()
        } catch {
            logger.critical("cannot make the request handler: \(error)")
            startup.failed.add(1, ordering: .releasing)
            return
        }
        startup.ready.add(1, ordering: .releasing)

        let request = UnsafeMutablePointer<FCGX_Request>.allocate(capacity: 1)
        defer { request.deallocate() }
        guard FCGX_InitRequest(request, 0, FCGI_FAIL_ACCEPT_ON_INTR) == 0 else {
            logger.critical("FCGX_InitRequest failed")
            return
        }
        while true {
            slot.phase.store(Phase.accepting.rawValue, ordering: .sequentiallyConsistent)
            let rc = FCGX_Accept_r(request)
            if rc < 0 {
                // Shutdown, or fd 0 is not a socket; either way this thread is done.
                if rc != -Int32(EINTR) && rc != -9999 && rc != -Int32(EBADF) {
                    logger.debug("FCGX_Accept_r returned \(rc)")
                }
                break
            }
            slot.phase.store(Phase.busy.rawValue, ordering: .sequentiallyConsistent)
            serve(request, handler)
            // Finish while still marked busy: the end-of-request write must not be interrupted.
            FCGX_Finish_r(request)
        }
        FCGX_Free(request, 1)
    }

    private func serve(_ raw: UnsafeMutablePointer<FCGX_Request>, _ handler: FastCGIHandler) {
        let started = monotonicSeconds()
        guard let input = cfcgi_request_in(raw), let output = cfcgi_request_out(raw) else { return }
        let request = Self.makeRequest(raw, body: FastCGIBodyStream(input, socket: cfcgi_request_fd(raw)))
        let writer = FastCGIResponseWriter(output)
        var response: Response
        do {
            response = try handler.respond(to: request)
        } catch {
            logger.error("request failed", metadata: ["request_id": "\(request.id)", "error": "\(error)"])
            response = .text("Internal Server Error\n", status: .internalServerError)
        }
        do {
            try writer.writeHead(response, requestID: request.id)
            if request.method != .head {
                switch response.body {
                case .empty: break
                case .bytes(let bytes): try writer.write(bytes)
                case .stream(let produce): try produce(writer)
                }
            }
        } catch {
            // Headers are gone already; all that is left is to say so in the log.
            logger.warning("response aborted", metadata: ["request_id": "\(request.id)", "error": "\(error)"])
            response.status = HTTPStatus(499, "Client Closed Request")
        }
        let seconds = monotonicSeconds() - started
        handler.finished(status: response.status, seconds: seconds)
        // The same line either way; written directly when the logger is the standard error
        // handler (sorted by key, as the handler sorts them).
        let fields: [(key: String, value: String)] = [
            ("bytes", String(writer.bodyBytes)),
            ("duration_ms", Self.hundredths(milliseconds: seconds * 1000)),
            ("method", request.method.rawValue),
            ("path", request.path),
            ("request_id", request.id),
            ("status", String(response.status.code)),
        ]
        if requestLines?.log(.info, "request", source: "FastCGI", sortedFields: fields) == true { return }
        logger.info("request", metadata: Logger.Metadata(uniqueKeysWithValues: fields.map { ($0.key, .string($0.value)) }))
    }

    /// `ms` cut to hundredths and written as `Double(Int(ms * 100)) / 100` prints it (`0.5`,
    /// `12.07`, `3.0`), without formatting a `Double`.
    static func hundredths(milliseconds ms: Double) -> String {
        let h = Int(ms * 100)
        guard h >= 0 else { return "\(Double(h) / 100)" }
        let whole = String(h / 100), cents = h % 100
        if cents % 10 == 0 { return whole + "." + String(cents / 10) }
        return whole + (cents < 10 ? ".0" : ".") + String(cents)
    }

    /// Builds a transport-free request from the CGI params nginx sent.
    ///
    /// Read as bytes, not as `String`s: nginx sends about twenty params a request and Intake
    /// keeps a few, so a param is compared by its bytes where libfcgi keeps it, and only the
    /// values kept become strings. (Walking each "NAME=value" as Swift characters was two fifths
    /// of a `/healthz` request's instructions.)
    static func makeRequest(_ raw: UnsafeMutablePointer<FCGX_Request>, body: FastCGIBodyStream) -> Request {
        var method = "GET", uri = "/", remote = "", requestID = ""
        var contentLength: Int64?
        var headers = HTTPHeaders()
        headers.reserveCapacity(16)
        if var p = cfcgi_request_params(raw) {
            while let entry = p.pointee {
                p += 1
                let text = UnsafeBufferPointer(start: UnsafeRawPointer(entry).assumingMemoryBound(to: UInt8.self), count: strlen(entry))
                guard let eq = text.firstIndex(of: UInt8(ascii: "=")) else { continue }
                let name = UnsafeBufferPointer(rebasing: text[..<eq])
                let value = UnsafeBufferPointer(rebasing: text[(eq + 1)...])
                if name.count > 5, memcmp(name.baseAddress!, "HTTP_", 5) == 0 {
                    headers.add(headerName(UnsafeBufferPointer(rebasing: name[5...])), String(decoding: value, as: UTF8.self))
                    continue
                }
                switch Param(name) {
                case .requestMethod: method = String(decoding: value, as: UTF8.self)
                case .requestURI: uri = String(decoding: value, as: UTF8.self)
                case .remoteAddress: remote = String(decoding: value, as: UTF8.self)
                case .requestID: requestID = String(decoding: value, as: UTF8.self)
                case .contentType: if !value.isEmpty { headers.add("content-type", String(decoding: value, as: UTF8.self)) }
                case .contentLength:
                    let text = String(decoding: value, as: UTF8.self)
                    if let n = Int64(text) { contentLength = n; headers.add("content-length", text) }
                case nil: break
                }
            }
        }
        if requestID.isEmpty { requestID = Self.randomID() }
        return Request(method: HTTPMethod(method), uri: uri, headers: headers, remoteAddress: remote,
                       id: requestID, body: RequestBody(stream: body, declaredLength: contentLength))
    }

    /// The params read besides the `HTTP_*` headers.
    private enum Param {
        case requestMethod, requestURI, remoteAddress, requestID, contentType, contentLength

        init?(_ name: UnsafeBufferPointer<UInt8>) {
            switch name.count {
            case 14 where Self.equals(name, "REQUEST_METHOD"): self = .requestMethod
            case 11 where Self.equals(name, "REQUEST_URI"): self = .requestURI
            case 11 where Self.equals(name, "REMOTE_ADDR"): self = .remoteAddress
            case 10 where Self.equals(name, "REQUEST_ID"): self = .requestID
            case 12 where Self.equals(name, "CONTENT_TYPE"): self = .contentType
            case 14 where Self.equals(name, "CONTENT_LENGTH"): self = .contentLength
            default: return nil
            }
        }

        private static func equals(_ name: UnsafeBufferPointer<UInt8>, _ literal: StaticString) -> Bool {
            memcmp(name.baseAddress!, literal.utf8Start, literal.utf8CodeUnitCount) == 0
        }
    }

    /// `ACCEPT_LANGUAGE` (after `HTTP_`) → `accept-language`: nginx upper-cases a field name and
    /// turns its dashes into underscores; this undoes both (ASCII only; other bytes are kept).
    static func headerName(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        String(unsafeUninitializedCapacity: bytes.count) { out in
            for (i, b) in bytes.enumerated() {
                out[i] = b == UInt8(ascii: "_") ? UInt8(ascii: "-") : (b >= 65 && b <= 90 ? b + 32 : b)
            }
            return bytes.count
        }
    }

    static func randomID() -> String {
        var g = SystemRandomNumberGenerator()
        let hex = Array("0123456789abcdef")
        return String((0..<32).map { _ in hex[Int(g.next() % 16)] })
    }
}

