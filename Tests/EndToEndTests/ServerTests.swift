import Foundation
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

// The end-to-end tests run the real `intake serve` behind a real nginx. They need nginx and a
// built binary, so they run only with INTAKE_INTEGRATION=1 (`integrationEnabled`, in
// TestSupport), which `scripts/test` and CI set; `swift test` alone stays fast.

@Suite("Server through nginx", .serialized, .enabled(if: integrationEnabled, "set INTAKE_INTEGRATION=1 (scripts/test does)"))
struct ServerTests {
    @Test("/healthz answers through nginx with the database state and a request id")
    func health() throws {
        let server = try IntakeTestServer()
        defer { server.stop() }
        let result = try server.get("/healthz")
        #expect(result.status == 200)
        #expect(result.headers["content-type"] == "application/json")
        #expect(result.text == #"{"status":"ok","version":"0.1.0","database":"ok"}"#)
        let id = try #require(result.headers["x-request-id"])
        #expect(id.count == 32 && id.allSatisfy(\.isHexDigit))
        let head = try HTTPClient.request(port: server.port, method: "HEAD", path: "/healthz")
        #expect(head.status == 200 && head.body.isEmpty)
    }

    @Test("unknown paths are 404 pages, wrong methods are 405 with Allow")
    func notFoundAndMethodNotAllowed() throws {
        let server = try IntakeTestServer()
        defer { server.stop() }
        let page = try server.get("/no/such/page")
        #expect(page.status == 404)
        #expect(page.headers["content-type"]?.hasPrefix("text/html") == true)
        #expect(page.text.contains("There is no page at this address."))
        let api = try server.get("/api/nothing")
        #expect(api.status == 404)
        #expect(api.text == #"{"error":{"code":"not_found","message":"There is no page at this address."}}"#)
        let post = try HTTPClient.request(port: server.port, method: "POST", path: "/healthz")
        #expect(post.status == 405)
        #expect(post.headers["allow"] == "GET, HEAD")
        let bad = try server.get("/p/%zz")
        #expect(bad.status == 400)
    }

    @Test("a worker killed with SIGKILL is replaced and later requests succeed")
    func killedWorkerIsReplaced() throws {
        let server = try IntakeTestServer(workers: 2)
        defer { server.stop() }
        let before = server.workerPIDs()
        #expect(before.count == 2)
        let load = RequestLoop(port: server.port, paths: ["/healthz"], clients: 2)
        load.start()
        usleep(300_000)
        let after = server.killWorker(before[0])
        usleep(300_000)
        load.stop()
        #expect(after.count == 2 && !after.contains(before[0]) && after.contains(before[1]))
        for _ in 0..<20 { #expect(try server.get("/healthz").status == 200) }
        #expect(server.serveLogText().contains("signal 9 (SIGKILL)"))
        #expect(load.successes > 0)
    }

    @Test("SIGTERM lets a slow request in flight finish, then exits 0")
    func sigtermDrains() throws {
        let server = try IntakeTestServer(extraEnvironment: ["INTAKE_DEBUG_ROUTES": "1"])
        defer { server.stop() }
        let slow = AsyncResult()
        let thread = Thread {
            slow.set(Result { try server.get("/_debug/sleep?ms=1500") })
        }
        thread.start()
        usleep(400_000)  // the request is now inside a worker
        server.signalServe(SIGTERM)
        let status = server.waitForServeExit(timeout: 20)
        let result = try #require(try slow.wait(timeout: 20))
        #expect(result.status == 200)
        #expect(result.text == #"{"slept_ms":1500}"#)
        #expect(status == 0)
        #expect(server.workerPIDs().isEmpty)
    }

    @Test("SIGHUP replaces every worker under a steady request loop with zero failed requests")
    func sighupRollsWithoutFailures() throws {
        let server = try IntakeTestServer(workers: 2, extraEnvironment: ["INTAKE_DEBUG_ROUTES": "1"])
        defer { server.stop() }
        let before = Set(server.workerPIDs())
        let load = RequestLoop(port: server.port, paths: ["/healthz", "/_debug/sleep?ms=30"], clients: 4)
        load.start()
        usleep(500_000)
        // Each roll is over when the supervisor logs "reload complete": the "no failed request"
        // check below covers both rolls whole, however long they take, instead of a fixed pause.
        server.signalServe(SIGHUP)
        #expect(waitForLog(server, "reload complete", count: 1) == 1)
        server.signalServe(SIGHUP)
        #expect(waitForLog(server, "reload complete", count: 2) == 2)
        load.stop()
        let after = Set(server.workerPIDs())
        #expect(after.count == 2)
        #expect(after.isDisjoint(with: before), "every worker was replaced")
        #expect(load.failures.isEmpty, "failed requests: \(load.failures.prefix(5))")
        #expect(load.successes > 50)
    }

    @Test("a multipart body streams through nginx and the parser intact; a malformed one is a clear 400")
    func multipartEndToEnd() throws {
        let server = try IntakeTestServer(extraEnvironment: ["INTAKE_DEBUG_ROUTES": "1"])
        defer { server.stop() }
        var rng = SystemRandomNumberGenerator()
        let file = (0..<(6 * 1024 * 1024)).map { _ in UInt8.random(in: 0...255, using: &rng) }
        let boundary = "----IntakeTestBoundary\(UInt32.random(in: 0...UInt32.max))"
        var body = Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"clientName\"\r\n\r\nAda\r\n".utf8)
        body += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"data.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n".utf8)
        body += file
        body += Array("\r\n--\(boundary)--\r\n".utf8)
        // Like every POST, it needs the visitor's CSRF token (as a script sends it: a header).
        let browser = server.session()
        try browser.get("/login")
        let token = try #require(browser.csrfToken)
        let cookie = ("Cookie", "intake_csrf=\(token)")
        let result = try HTTPClient.request(port: server.port, method: "POST", path: "/_debug/multipart",
                                            headers: [("Content-Type", "multipart/form-data; boundary=\(boundary)"), cookie, ("X-CSRF-Token", token)],
                                            body: body)
        #expect(result.status == 200)
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in file { hash = (hash ^ UInt64(b)) &* 0x100_0000_01b3 }
        #expect(result.text == #"{"parts":[{"name":"clientName","filename":null,"size":3,"fnv1a64":"\#(String(fnv("Ada"), radix: 16))"},{"name":"file","filename":"data.bin","size":\#(file.count),"fnv1a64":"\#(String(hash, radix: 16))"}]}"#)

        let truncated = Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nno end".utf8)
        let bad = try HTTPClient.request(port: server.port, method: "POST", path: "/_debug/multipart",
                                         headers: [("Content-Type", "multipart/form-data; boundary=\(boundary)"), cookie, ("X-CSRF-Token", token)],
                                         body: truncated)
        #expect(bad.status == 400)
        #expect(bad.text.contains("missing final boundary") && bad.text.contains("at byte \(truncated.count)"))
    }
}

func fnv(_ s: String) -> UInt64 {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
    return h
}

/// Clients requesting in a loop until stopped, recording every failure (status ≥ 400 or a
/// connection error) with what happened.
final class RequestLoop: @unchecked Sendable {  // counters guarded by lock
    private let port: UInt16
    private let paths: [String]
    private let clients: Int
    private let lock = NSLock()
    private var running = true
    private var threads: [Thread] = []
    private var done = 0
    private(set) var successes = 0
    private(set) var failures: [String] = []

    init(port: UInt16, paths: [String], clients: Int) {
        self.port = port
        self.paths = paths
        self.clients = clients
    }

    func start() {
        for c in 0..<clients {
            let thread = Thread { [self] in
                var i = c
                while lock.withLock({ running }) {
                    let path = paths[i % paths.count]
                    i += 1
                    do {
                        let r = try HTTPClient.request(port: port, path: path, timeout: 10)
                        lock.withLock { if r.status < 400 { successes += 1 } else { failures.append("\(path): \(r.status) \(r.text.prefix(200))") } }
                    } catch {
                        lock.withLock { failures.append("\(path): \(error)") }
                    }
                }
                lock.withLock { done += 1 }
            }
            threads.append(thread)
            thread.start()
        }
    }

    func stop() {
        lock.withLock { running = false }
        while lock.withLock({ done }) < clients { usleep(10_000) }
    }
}

/// Waits (at most `seconds`) until the supervisor's log holds `text` `count` times; returns how
/// many times it holds it then.
func waitForLog(_ server: IntakeTestServer, _ text: String, count: Int, seconds: Double = 30) -> Int {
    let deadline = Date().addingTimeInterval(seconds)
    var seen = 0
    repeat {
        seen = server.serveLogText().components(separatedBy: text).count - 1
        if seen >= count { return seen }
        usleep(50_000)
    } while Date() < deadline
    return seen
}

/// A value produced on another thread.
final class AsyncResult: @unchecked Sendable {  // guarded by lock
    private let lock = NSLock()
    private var value: Result<HTTPResult, Error>?
    func set(_ v: Result<HTTPResult, Error>) { lock.withLock { value = v } }
    func wait(timeout: Double) throws -> HTTPResult? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let v = lock.withLock({ value }) { return try v.get() }
            usleep(10_000)
        }
        return nil
    }
}
