import Foundation
import Synchronization
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// `/metrics` of a real `intake serve` with two workers behind nginx: counters added by every
/// process are summed whichever worker answers, exactly, and survive a worker's SIGKILL.
@Suite("/metrics through nginx, summed over the worker processes", .serialized,
       .enabled(if: integrationEnabled, "set INTAKE_INTEGRATION=1 (scripts/test does)"))
struct MetricsTests {
    static let token = "e2e-metrics-" + UUID().uuidString

    /// One request of the mix: what is sent, and how Intake must count it.
    struct Shot: Sendable {
        let method: String
        let path: String
        let route: String
        let status: Int
    }

    static let mix: [Shot] = [
        Shot(method: "GET", path: "/healthz", route: "/healthz", status: 200),
        Shot(method: "HEAD", path: "/healthz", route: "/healthz", status: 200),
        Shot(method: "GET", path: "/login", route: "/login", status: 200),
        Shot(method: "GET", path: "/p/demo", route: "/p/:slug", status: 200),
        Shot(method: "GET", path: "/p/no-such-portal", route: "/p/:slug", status: 404),
        Shot(method: "GET", path: "/no/such/page", route: "unmatched", status: 404),
        Shot(method: "POST", path: "/healthz", route: "unmatched", status: 405),
        Shot(method: "GET", path: "/dashboard", route: "/dashboard", status: 303),
        Shot(method: "GET", path: "/api/openapi.json", route: "/api/openapi.json", status: 200),
        Shot(method: "GET", path: "/api/receipts/not-a-receipt", route: "/api/receipts/:token", status: 404),
    ]

    /// A key for one series of `intake_http_requests_total`.
    static func key(_ route: String, _ method: String, _ status: Int) -> String { "\(route) \(method) \(status)" }

    func scrape(_ server: IntakeTestServer) throws -> (ParsedExposition, String) {
        let result = try server.get("/metrics", headers: [("Authorization", "Bearer \(Self.token)")])
        try #require(result.status == 200, "\(result.status) \(result.text)")
        #expect(result.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8")
        return (try ParsedExposition.parse(result.text), result.text)
    }

    /// `intake_http_requests_total` by route, method and status.
    func requests(_ m: ParsedExposition) -> [String: Double] {
        var out: [String: Double] = [:]
        for s in m.samples("intake_http_requests_total") { out[Self.key(s.labels["route"]!, s.labels["method"]!, Int(s.labels["status"]!)!)] = s.value }
        return out
    }

    /// What changed from `before` to `after`, leaving out zeros.
    func delta(_ before: [String: Double], _ after: [String: Double]) -> [String: Double] {
        var out: [String: Double] = [:]
        for (key, value) in after where value != before[key, default: 0] { out[key] = value - before[key, default: 0] }
        return out
    }

    /// The checks every scrape must pass whatever else is going on: each route's histogram
    /// counts as many requests as its counter, every process is there.
    func checkConsistent(_ m: ParsedExposition, workers: Int) {
        var byRoute: [String: Double] = [:]
        for s in m.samples("intake_http_requests_total") { byRoute[s.labels["route"]!, default: 0] += s.value }
        for (route, count) in byRoute {
            #expect(m.value("intake_http_request_duration_seconds_count", ["route": route]) == count, "\(route)")
        }
        #expect(Set(m.samples("intake_http_request_duration_seconds_count").map { $0.labels["route"]! }) == Set(byRoute.keys))
        #expect(m.value("intake_workers") == Double(workers))
        for process in (0..<workers).map({ "worker-\($0)" }) + ["supervisor"] {
            #expect((m.value("intake_process_resident_memory_bytes", ["process": process]) ?? 0) > 1_000_000, "\(process)")
        }
    }

    /// Python's own reader of the format (prometheus_client, in the test venv `scripts/test`
    /// makes), when it is there: how many samples it reads.
    func officialSampleCount(_ text: String) throws -> Int? {
        let python = IntakeTestServer.packageRoot + "/.build-venv/bin/python"
        guard FileManager.default.isExecutableFile(atPath: python) else { return nil }
        let script = """
            import sys
            try:
                from prometheus_client.parser import text_string_to_metric_families
            except ImportError:
                print("missing"); sys.exit(0)
            print(sum(len(f.samples) for f in text_string_to_metric_families(sys.stdin.read())))
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["-c", script]
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        input.fileHandleForWriting.write(Data(text.utf8))
        try input.fileHandleForWriting.close()
        let answer = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        process.waitUntilExit()
        guard answer != "missing" else { return nil }
        #expect(process.terminationStatus == 0, "prometheus_client refused the text")
        return Int(answer)
    }

    @Test("300 requests at once over several routes and 10 uploads, counted exactly whichever of 2 workers answers; histograms agree with counters; a worker killed with SIGKILL loses nothing; the token is required")
    func totalsAcrossWorkers() throws {
        let site = try DemoSite(workers: 2, threads: 4, extraEnvironment: ["INTAKE_METRICS_TOKEN": Self.token])
        let server = site.server
        defer { server.stop() }

        // Who may read it: the token, or an admin; a user is refused.
        #expect(try server.get("/metrics").status == 401)
        #expect(try server.get("/metrics", headers: [("Authorization", "Bearer \(Self.token)-wrong")]).status == 401)
        #expect(try site.owner.get("/metrics").status == 403)
        let credentials = try String(contentsOfFile: server.home + "/demo-credentials.txt", encoding: .utf8)
        let adminPassword = try #require(credentials.split(separator: "\n").first { $0.hasPrefix("admin") }?.split(separator: " ").last)
        let admin = server.session()
        _ = try admin.get("/login")
        _ = try admin.post("/login", form: [("email", "admin@example.com"), ("password", String(adminPassword))])
        #expect(try admin.get("/metrics").status == 200)

        let (first, _) = try scrape(server)
        let baseline = requests(first)
        let uploadsBefore = (first.value("intake_uploads_total", ["kind": "multipart"])!, first.value("intake_uploads_total", ["kind": "tus"])!)
        let bytesBefore = (first.value("intake_upload_bytes_total", ["kind": "multipart"])!, first.value("intake_upload_bytes_total", ["kind": "tus"])!)

        // 300 requests from 12 threads at once, and uploads beside them.
        let sent = Mutex<[String: Double]>([:])
        let failures = Mutex<[String]>([])
        let port = server.port
        @Sendable func note(_ key: String) { sent.withLock { $0[key, default: 0] += 1 } }
        onThreads(12) { thread in
            for j in 0..<25 {
                let shot = Self.mix[(thread * 25 + j) % Self.mix.count]
                do {
                    let result = try HTTPClient.request(port: port, method: shot.method, path: shot.path)
                    if result.status != shot.status { failures.withLock { $0.append("\(shot.method) \(shot.path): \(result.status)") } }
                    note(Self.key(shot.route, shot.method, result.status))
                } catch {
                    failures.withLock { $0.append("\(shot.method) \(shot.path): \(error)") }
                }
            }
        }
        let files = Mutex<(count: Double, bytes: Double, tus: Double, tusBytes: Double)>((0, 0, 0, 0))
        onThreads(8) { i in
            do {
                if i < 6 {
                    // Multipart: one file, or two in one request.
                    let parts = (0..<(i % 2 + 1)).map { k in ("m\(i)-\(k).bin", [UInt8](repeating: UInt8(i), count: 1000 * (i + 1) + k)) }
                    let result = try site.upload(parts)
                    guard result.status == 200 else { throw LaunchError("upload \(i): \(result.status) \(result.text)") }
                    note(Self.key("/api/upload", "POST", 200))
                    files.withLock { $0.count += Double(parts.count); $0.bytes += Double(parts.reduce(0) { $0 + $1.1.count }) }
                } else {
                    // tus: a creation, then the whole file in one PATCH.
                    let bytes = [UInt8](repeating: 0x25, count: 70_000 + i)
                    let metadata = [("portalId", "1"), ("filename", "t\(i).bin"), ("clientName", "Ada")]
                        .map { "\($0.0) \(Data($0.1.utf8).base64EncodedString())" }.joined(separator: ",")
                    let created = try HTTPClient.request(port: port, method: "POST", path: "/api/tus/",
                                                         headers: [("Tus-Resumable", "1.0.0"), ("Upload-Length", String(bytes.count)), ("Upload-Metadata", metadata)])
                    guard created.status == 201, let location = created.headers["location"] else { throw LaunchError("tus \(i): \(created.status) \(created.text)") }
                    note(Self.key("/api/tus", "POST", 201))
                    let path = location.hasPrefix("http") ? String(location[location.range(of: "/api/tus/")!.lowerBound...]) : location
                    let patched = try HTTPClient.request(port: port, method: "PATCH", path: path,
                                                         headers: [("Tus-Resumable", "1.0.0"), ("Content-Type", "application/offset+octet-stream"), ("Upload-Offset", "0")],
                                                         body: bytes)
                    guard patched.status == 204 else { throw LaunchError("tus patch \(i): \(patched.status) \(patched.text)") }
                    note(Self.key("/api/tus/:id", "PATCH", 204))
                    files.withLock { $0.tus += 1; $0.tusBytes += Double(bytes.count) }
                }
            } catch {
                failures.withLock { $0.append("\(error)") }
            }
        }
        #expect(failures.withLock { $0 }.isEmpty, "\(failures.withLock { $0 })")
        let expected = sent.withLock { $0 }
        let uploaded = files.withLock { $0 }
        let requestsSent: Double = 300 + 6 + 2 * 2  // the mix, 6 multipart uploads, 2 tus creations and their PATCHes
        #expect(expected.values.reduce(0, +) == requestsSent)

        // Read several times: each read is answered by either worker, and each must say the same.
        var scrapes = 1
        var last = first
        for _ in 0..<6 {
            let (m, text) = try scrape(server)
            var changed = delta(baseline, requests(m))
            // The reads before this one, and only those, are the rest.
            #expect(changed.removeValue(forKey: Self.key("/metrics", "GET", 200)) == Double(scrapes))
            scrapes += 1
            #expect(changed == expected)
            #expect(m.value("intake_uploads_total", ["kind": "multipart"])! - uploadsBefore.0 == uploaded.count)
            #expect(m.value("intake_upload_bytes_total", ["kind": "multipart"])! - bytesBefore.0 == uploaded.bytes)
            #expect(m.value("intake_uploads_total", ["kind": "tus"])! - uploadsBefore.1 == uploaded.tus)
            #expect(m.value("intake_upload_bytes_total", ["kind": "tus"])! - bytesBefore.1 == uploaded.tusBytes)
            #expect(m.value("intake_deliveries", ["state": "uploaded"]) == uploaded.count + uploaded.tus)
            // The supervisor's jobs ran at start, in its own slot.
            #expect((m.value("intake_job_runs_total", ["job": "sessions", "result": "ok"]) ?? 0) >= 1)
            checkConsistent(m, workers: 2)
            if let official = try officialSampleCount(text) { #expect(official == m.samples.count) }
            last = m
        }

        // A worker killed with SIGKILL: its replacement takes its slot, and nothing is lost or counted twice.
        let workers = server.workerPIDs()
        try #require(workers.count == 2)
        let replaced = server.killWorker(workers[0])
        #expect(replaced.count == 2 && !replaced.contains(workers[0]))
        // Whichever worker answers, the old totals are all there, and only the reads were added.
        var afterKill = last
        for read in 1...4 {
            let (m, _) = try scrape(server)
            var changed = delta(requests(last), requests(m))
            #expect(changed.removeValue(forKey: Self.key("/metrics", "GET", 200)) == Double(read))
            #expect(changed.isEmpty, "nothing but the reads changed: \(changed)")
            for kind in ["multipart", "tus"] {
                #expect(m.value("intake_uploads_total", ["kind": kind]) == last.value("intake_uploads_total", ["kind": kind]))
                #expect(m.value("intake_upload_bytes_total", ["kind": kind]) == last.value("intake_upload_bytes_total", ["kind": kind]))
            }
            afterKill = m
        }
        onThreads(5) { _ in for _ in 0..<10 { _ = try? HTTPClient.request(port: port, path: "/healthz") } }
        let (final, _) = try scrape(server)
        #expect(delta(requests(afterKill), requests(final))[Self.key("/healthz", "GET", 200)] == 50)
        checkConsistent(final, workers: 2)
    }
}
