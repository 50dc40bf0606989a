import Curl
import Database
import Foundation
import Integrations
@testable import Intake
@testable import IntakeWeb
import Metrics
import Synchronization
import Testing
import TestSupport
import Web

@Suite("/metrics: what is counted, how it is laid out, who may read it")
struct SiteMetricsTests {
    static let token = "scrape-token-0123456789abcdef"

    func harness(_ db: any Database, token: String? = Self.token) throws -> AppHarness {
        try AppHarness(db: db, environment: token.map { ["INTAKE_METRICS_TOKEN": $0] } ?? [:])
    }

    /// Answers a request as the transport does: respond, then `finished` with its status.
    @discardableResult
    func answer(_ h: AppHarness, _ method: HTTPMethod, _ uri: String, seconds: Double = 0.003, cookies: [String: String] = [:]) -> Response {
        let response = h.send(method, uri, cookies: cookies)
        h.app.finished(status: response.status, seconds: seconds)
        return response
    }

    func scrape(_ h: AppHarness) throws -> ParsedExposition {
        let response = h.send(.get, "/metrics", headers: [("Authorization", "Bearer \(Self.token)")])
        try #require(response.status == .ok, "\(response.status) \(response.text)")
        #expect(response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8")
        #expect(response.headers["cache-control"] == "no-store")
        return try ParsedExposition.parse(response.text)
    }

    @Test("requests are counted by route pattern (never the path), method and status; HEAD on a GET route as HEAD; no route as unmatched; durations by route")
    func requestsByRoute() throws {
        try withDatabase { db in
            let h = try harness(db)
            answer(h, .get, "/p/some-client-slug", seconds: 0.004)
            answer(h, .get, "/p/another", seconds: 0.3)
            answer(h, .get, "/healthz")
            answer(h, .head, "/healthz")
            answer(h, .get, "/no/such/page")
            answer(h, .post, "/healthz")  // 405: the path takes only GET
            answer(h, HTTPMethod("BREW"), "/coffee")
            answer(h, .get, "/p/%zz")  // a malformed path
            let m = try scrape(h)
            #expect(m.types["intake_http_requests_total"] == "counter" && m.types["intake_http_request_duration_seconds"] == "histogram")
            #expect(m.value("intake_http_requests_total", ["route": "/p/:slug", "method": "GET", "status": "404"]) == 2)
            #expect(m.value("intake_http_requests_total", ["route": "/healthz", "method": "GET", "status": "200"]) == 1)
            #expect(m.value("intake_http_requests_total", ["route": "/healthz", "method": "HEAD", "status": "200"]) == 1)
            #expect(m.value("intake_http_requests_total", ["route": "unmatched", "method": "GET", "status": "404"]) == 1)
            #expect(m.value("intake_http_requests_total", ["route": "unmatched", "method": "POST", "status": "405"]) == 1)
            #expect(m.value("intake_http_requests_total", ["route": "unmatched", "method": "other", "status": "404"]) == 1)
            #expect(m.value("intake_http_requests_total", ["route": "unmatched", "method": "GET", "status": "400"]) == 1)
            #expect(m.samples("intake_http_requests_total").map(\.value).reduce(0, +) == 8)
            // The paths asked for never become labels.
            #expect(!m.samples.contains { $0.labels.values.contains { $0.contains("some-client") || $0.contains("coffee") || $0.contains("zz") } })
            #expect(m.value("intake_http_request_duration_seconds_count", ["route": "/p/:slug"]) == 2)
            #expect(m.value("intake_http_request_duration_seconds_bucket", ["route": "/p/:slug", "le": "0.005"]) == 1)
            #expect(m.value("intake_http_request_duration_seconds_bucket", ["route": "/p/:slug", "le": "0.25"]) == 1)
            #expect(m.value("intake_http_request_duration_seconds_bucket", ["route": "/p/:slug", "le": "0.5"]) == 2)
            #expect(abs(m.value("intake_http_request_duration_seconds_sum", ["route": "/p/:slug"])! - 0.304) < 1e-6)
            #expect(m.value("intake_http_request_duration_seconds_count", ["route": "/healthz"]) == 2)
            #expect(m.value("intake_http_request_duration_seconds_count", ["route": "unmatched"]) == 4)
            // The scrape itself is counted once it is finished.
            h.app.finished(status: .ok, seconds: 0.001)
            #expect(try scrape(h).value("intake_http_requests_total", ["route": "/metrics", "method": "GET", "status": "200"]) == 1)
        }
    }

    @Test("statuses outside the list are counted by class; durations fall in the first bucket that holds them",
          arguments: [(200, "200"), (418, "4xx"), (599, "5xx"), (102, "1xx"), (226, "2xx"), (460, "460"), (499, "499")])
    func statusColumns(_ code: Int, _ label: String) {
        #expect(MetricsLayout.statusLabels[MetricsLayout.statusColumn(code)] == label)
    }

    @Test("duration buckets: a bound holds what equals it; past the last, the overflow bucket")
    func durationBuckets() {
        #expect(MetricsLayout.durationBucket(0) == 0 && MetricsLayout.durationBucket(0.005) == 0 && MetricsLayout.durationBucket(0.0051) == 1)
        #expect(MetricsLayout.durationBucket(10) == 10 && MetricsLayout.durationBucket(10.5) == 11)
    }

    @Test("the layout names every route of the table once per method, HEAD for GET routes without one; the debug routes change the fingerprint")
    func layout() {
        let plain = Application.metricsLayout(debug: false), again = Application.metricsLayout(debug: false)
        let debug = Application.metricsLayout(debug: true)
        #expect(plain.fingerprint == again.fingerprint && plain.count == again.count)
        #expect(plain.fingerprint != debug.fingerprint && debug.routes.contains("/_debug/sleep") && !plain.routes.contains("/_debug/sleep"))
        let entries = Application.routes(debug: false).entries
        #expect(plain.entryLines.count == entries.count)
        for (i, entry) in entries.enumerated() {
            let line = plain.lines[plain.entryLines[i]]
            #expect(plain.routes[line.route] == entry.pattern && line.method == entry.method.rawValue)
            if entry.method == .get, !entries.contains(where: { $0.method == .head && $0.pattern == entry.pattern }) {
                #expect(plain.headLines[i].map { plain.lines[$0].method } == "HEAD")
            } else {
                #expect(plain.headLines[i] == nil)
            }
        }
        #expect(Set(plain.routes).count == plain.routes.count && plain.routes.last == "unmatched")
        // Bounded: a few thousand counters a process, whatever the traffic.
        #expect(plain.count < 12_000, "\(plain.count)")
    }

    @Test("who may read it: the token or an admin; a wrong or missing token is 401 with a Bearer challenge, a user 403")
    func access() throws {
        try withDatabase { db in
            let h = try harness(db)
            let none = h.send(.get, "/metrics")
            #expect(none.status == .unauthorized && none.headers["www-authenticate"] == #"Bearer realm="intake""#)
            let wrong = h.send(.get, "/metrics", headers: [("Authorization", "Bearer \(Self.token)x")])
            #expect(wrong.status == .unauthorized && wrong.headers["www-authenticate"] == #"Bearer realm="intake", error="invalid_token""#)
            #expect(h.send(.get, "/metrics", headers: [("Authorization", "Basic \(Self.token)")]).status == .unauthorized)
            #expect(h.send(.get, "/metrics", headers: [("Authorization", "Bearer")]).status == .unauthorized)
            #expect(h.send(.get, "/metrics", headers: [("Authorization", "bearer \(Self.token)")]).status == .ok)
            let (user, _) = try h.signIn(.user)
            #expect(h.send(.get, "/metrics", cookies: user).status == .forbidden)
            let (admin, _) = try h.signIn(.admin)
            let page = h.send(.get, "/metrics", cookies: admin)
            #expect(page.status == .ok && page.text.contains("# TYPE intake_http_requests_total counter"))
            // A session does not make a wrong token right.
            #expect(h.send(.get, "/metrics", cookies: admin, headers: [("Authorization", "Bearer nope")]).status == .unauthorized)
            #expect(h.send(.post, "/metrics", headers: [("Authorization", "Bearer \(Self.token)")]).status == .methodNotAllowed)
        }
        try withDatabase { db in
            // Without INTAKE_METRICS_TOKEN no token opens it; an admin still may.
            let h = try harness(db, token: nil)
            #expect(h.send(.get, "/metrics", headers: [("Authorization", "Bearer \(Self.token)")]).status == .unauthorized)
            let (admin, _) = try h.signIn(.admin)
            #expect(h.send(.get, "/metrics", cookies: admin).status == .ok)
        }
    }

    @Test("the token must be 16 characters or more without spaces, may come from a file, and is redacted by intake config")
    func tokenConfiguration() throws {
        #expect(throws: ConfigurationError.self) { try Configuration.load(["INTAKE_METRICS_TOKEN": "short"], workingDirectory: "/tmp") }
        #expect(throws: ConfigurationError.self) { try Configuration.load(["INTAKE_METRICS_TOKEN": "has a space in it somewhere"], workingDirectory: "/tmp") }
        try withTemporaryDirectory { dir in
            try Data((Self.token + "\n").utf8).write(to: URL(fileURLWithPath: dir + "/token"))
            let config = try Configuration.load(["INTAKE_METRICS_TOKEN_FILE": dir + "/token"], workingDirectory: "/tmp")
            #expect(config.metricsToken == Self.token)
            #expect(config.describe().first { $0.0 == "INTAKE_METRICS_TOKEN" }?.1 == "(set, redacted)")
            #expect(!config.describe().contains { $0.1.contains(Self.token) })
        }
        #expect(try Configuration.load([:], workingDirectory: "/tmp").metricsToken == nil)
    }

    @Test("deliveries by state come from the kept totals: every state, zero where none, without reading file_uploads")
    func deliveries() throws {
        try withDatabase { db in
            let h = try harness(db)
            try db.execute("DELETE FROM file_totals")
            try db.execute("INSERT INTO file_totals (status, files, bytes) VALUES ('uploaded', 3, 3000), ('failed', 1, 7)")
            let m = try scrape(h)
            #expect(m.value("intake_deliveries", ["state": "uploaded"]) == 3 && m.value("intake_deliveries", ["state": "failed"]) == 1)
            #expect(m.value("intake_deliveries", ["state": "delivering"]) == 0)
            #expect(m.value("intake_delivery_bytes", ["state": "uploaded"]) == 3000)
            if db.dialect == .sqlite {  // (PostgreSQL's plans are another language)
                let plan = try db.query("EXPLAIN QUERY PLAN SELECT status, files, bytes FROM file_totals").map { try $0.get("detail", as: String.self) }
                #expect(plan == ["SCAN file_totals"], "a handful of kept rows, no file_uploads row")
            }
        }
    }

    @Test("uploads, token refreshes and job runs are counted in their series; the jobs' labels are those of Jobs.names")
    func operationSeries() throws {
        try withDatabase { db in
            let h = try harness(db)
            let metrics = h.services.metrics
            metrics.fileAccepted(.multipart, bytes: 10)
            metrics.fileAccepted(.multipart, bytes: 5)
            metrics.fileAccepted(.tus, bytes: 1 << 33)
            metrics.tokenRefreshed(.google, .ok)
            metrics.tokenRefreshed(.dropbox, .revoked)
            metrics.jobRan("mail", failed: false)
            metrics.jobRan("mail", failed: true)
            metrics.jobRan("no_such_job", failed: true)  // not a job: not counted anywhere
            let m = try scrape(h)
            #expect(m.value("intake_uploads_total", ["kind": "multipart"]) == 2 && m.value("intake_uploads_total", ["kind": "tus"]) == 1)
            #expect(m.value("intake_upload_bytes_total", ["kind": "multipart"]) == 15 && m.value("intake_upload_bytes_total", ["kind": "tus"]) == Double(1 << 33))
            #expect(m.value("intake_token_refreshes_total", ["provider": "google", "result": "ok"]) == 1)
            #expect(m.value("intake_token_refreshes_total", ["provider": "dropbox", "result": "revoked"]) == 1)
            #expect(m.samples("intake_token_refreshes_total").count == 8)
            #expect(m.value("intake_job_runs_total", ["job": "mail", "result": "ok"]) == 1 && m.value("intake_job_runs_total", ["job": "mail", "result": "error"]) == 1)
            #expect(Set(m.samples("intake_job_runs_total").map { $0.labels["job"]! }) == Set(Jobs.names))
            #expect(m.samples("intake_job_runs_total").map(\.value).reduce(0, +) == 2)
            // A process alone: this one, as a worker, with its memory.
            #expect(m.value("intake_workers") == 1)
            #expect((m.value("intake_process_resident_memory_bytes", ["process": "worker-0"]) ?? 0) > 1_000_000)
        }
    }

    @Test("a jobs pass reports every job it runs by a name in Jobs.names, the storage health check too when it is wired")
    func jobNames() throws {
        try withDatabase { db in
            try withTemporaryDirectory { dir in
                let configuration = try Configuration.load(["INTAKE_HOME": dir], workingDirectory: "/")
                let counters = RecordingCounters()
                let report = try Jobs(db: db, clock: ManualClock(1_800_000_000), configuration: configuration,
                                      provider: { _ in throw ValidationError("", "no storage in this test") },
                                      storageHealthCheck: { _, _ in .reachable }, counters: counters).runOnce(mail: nil)
                #expect(report.leader && report.failures.isEmpty, "\(report.failures)")
                #expect(counters.all == Jobs.names.filter { $0 != "webhooks" }.map { "job \($0) ok" }, "webhooks only with an HTTP client")
                let withWebhooks = RecordingCounters()
                _ = try Jobs(db: db, clock: ManualClock(1_800_000_000 + Jobs.leaseSeconds + 1), configuration: configuration,
                             provider: { _ in throw ValidationError("", "no storage in this test") },
                             storageHealthCheck: { _, _ in .reachable }, counters: withWebhooks).runOnce(mail: nil, webhooks: try CurlClient())
                #expect(withWebhooks.all == Jobs.names.map { "job \($0) ok" })
            }
        }
    }
}
