import Foundation
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// What nginx answers itself — requests it refuses before Intake sees them, a worker that is gone
/// or too slow — looks like Intake's own errors (issue 12, item 3), and a local-disk download that
/// nginx sends for Intake (X-Accel-Redirect) keeps the safety headers (item 18).
@Suite("Errors nginx answers itself, and the downloads it sends", .serialized, .enabled(if: integrationEnabled, "set INTAKE_INTEGRATION=1 (scripts/test does)"))
struct NginxErrorTests {
    /// A request nginx answers itself, and the error it must answer with.
    struct Refusal: CustomStringConvertible, Sendable {
        let description: String
        var method = "GET"
        let path: String
        var headers: [(String, String)] = []
        var body: [UInt8] = []
        let status: Int
        let code: String
        /// The JSON error shape, else the error page.
        let json: Bool
    }

    static let overLimit = [UInt8](repeating: 0x61, count: 11 * 1024 * 1024)  // client_max_body_size is 10m off the upload routes
    static let longPath = String(repeating: "a", count: 10_000)  // over large_client_header_buffers (8k)

    static let refusals: [Refusal] = [
        Refusal(description: "a NUL in the path under /api/", path: "/api/portals/%00", status: 400, code: "bad_request", json: true),
        Refusal(description: "a NUL in a page's path", path: "/dashboard/%00", status: 400, code: "bad_request", json: false),
        Refusal(description: "a body over the limit under /api/", method: "POST", path: "/api/portals",
                headers: [("Content-Type", "application/json")], body: overLimit, status: 413, code: "payload_too_large", json: true),
        Refusal(description: "a body over the limit on a form", method: "POST", path: "/login",
                headers: [("Content-Type", "application/x-www-form-urlencoded")], body: overLimit, status: 413, code: "payload_too_large", json: false),
        Refusal(description: "an address too long under /api/", path: "/api/portals/" + longPath, status: 414, code: "uri_too_long", json: true),
        Refusal(description: "a page address too long", path: "/dashboard/" + longPath, status: 414, code: "uri_too_long", json: false),
        Refusal(description: "a header too large under /api/", path: "/api/portals", headers: [("X-Padding", longPath)],
                status: 431, code: "header_too_large", json: true),
        Refusal(description: "a header too large on a page", path: "/login", headers: [("X-Padding", longPath)],
                status: 431, code: "header_too_large", json: false),
        Refusal(description: "a transfer coding nginx does not know", path: "/api/portals", headers: [("Transfer-Encoding", "gzip")],
                status: 501, code: "not_implemented", json: true),
        Refusal(description: "a static file that is not there", path: "/css/missing.css", status: 404, code: "not_found", json: false),
        Refusal(description: "a static file that is not there, asked for as JSON", path: "/css/missing.css",
                headers: [("Accept", "application/json")], status: 404, code: "not_found", json: true),
        Refusal(description: "a POST to a static file", method: "POST", path: "/css/app.css", status: 405, code: "method_not_allowed", json: false),
        Refusal(description: "the download location from outside", path: "/_files/1/x.txt", status: 404, code: "not_found", json: false),
    ]

    @Test("every request nginx refuses is answered in Intake's shape, with a request id; Intake's own errors pass untouched")
    func refused() throws {
        let server = try IntakeTestServer()
        defer { server.stop() }
        for refusal in Self.refusals {
            let result = try HTTPClient.request(port: server.port, method: refusal.method, path: refusal.path, headers: refusal.headers, body: refusal.body)
            Self.expectIntakeError(result, status: refusal.status, code: refusal.code, json: refusal.json, what: refusal.description)
        }

        let api = try server.get("/api/nothing")
        #expect(api.status == 404)
        #expect(api.text == #"{"error":{"code":"not_found","message":"There is no page at this address."}}"#)
        #expect(api.headers["x-request-id"].map(Self.isRequestID) == true, "one id, not nginx's beside the worker's: \(api.headers["x-request-id"] ?? "none")")
        let page = try server.get("/no/such/page")
        #expect(page.status == 404 && page.text.contains("There is no page at this address.") && !page.text.contains("Go to the start page"))
    }

    @Test("a worker too slow is a 504 and a worker gone is a 502, in Intake's shape")
    func timeoutAndNoWorker() throws {
        let server = try IntakeTestServer(extraEnvironment: ["INTAKE_DEBUG_ROUTES": "1"])
        defer { server.stop() }
        // The development config waits nginx's default 60 s for an answer; wait 1 s instead, so a
        // debug sleep of 2.5 s times out. Nothing else in the rendered config changes.
        let config = server.home + "/nginx/nginx.conf"
        let text = try String(contentsOfFile: config, encoding: .utf8)
        let shortened = text.replacingOccurrences(of: "        location / {\n", with: "        location / {\n            fastcgi_read_timeout 1s;\n")
        try #require(shortened != text, "the catch-all location is where the test expects it")
        try shortened.write(toFile: config, atomically: true, encoding: .utf8)
        let master = try #require(Int32(try String(contentsOfFile: server.home + "/nginx/logs/nginx.pid", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)))
        kill(master, SIGHUP)
        usleep(1_000_000)  // new workers take new connections
        let slowPage = try server.get("/_debug/sleep?ms=2500")
        Self.expectIntakeError(slowPage, status: 504, code: "timeout", json: false)
        let slowScript = try server.get("/_debug/sleep?ms=2500", headers: [("Accept", "application/json")])
        Self.expectIntakeError(slowScript, status: 504, code: "timeout", json: true)

        server.signalServe(SIGTERM)
        #expect(server.waitForServeExit(timeout: 20) == 0)
        Self.expectIntakeError(try server.get("/api/portals"), status: 502, code: "unavailable", json: true)
        Self.expectIntakeError(try server.get("/dashboard"), status: 502, code: "unavailable", json: false)
        let upload = try HTTPClient.request(port: server.port, method: "POST", path: "/api/upload",
                                            headers: [("Content-Type", "multipart/form-data; boundary=x")], body: Array("--x--\r\n".utf8))
        Self.expectIntakeError(upload, status: 502, code: "unavailable", json: true)
    }

    @Test("a local-disk download keeps its bytes and name and carries nosniff, a sandbox and no-store")
    func downloadHeaders() throws {
        let server = try IntakeTestServer()
        defer { server.stop() }
        _ = try IntakeTestServer.run(IntakeTestServer.binary, ["demo-seed"], environment: server.environment)
        let visitor = server.session()
        try visitor.get("/p/demo")
        let token = try #require(visitor.csrfToken)
        let boundary = "----intake\(UInt32.random(in: 0...UInt32.max))"
        // Text a browser would happily sniff as a page, were it allowed to.
        let bytes = Array("hello <b>world</b> <script>alert(1)</script>\n".utf8)
        var body = Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"portalId\"\r\n\r\n1\r\n".utf8)
        body += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"clientName\"\r\n\r\nAda\r\n".utf8)
        body += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"notes 1.txt\"\r\nContent-Type: text/plain\r\n\r\n".utf8)
        body += bytes + Array("\r\n--\(boundary)--\r\n".utf8)
        let upload = try HTTPClient.request(port: server.port, method: "POST", path: "/api/upload",
                                            headers: [("Cookie", "intake_csrf=\(token)"), ("X-CSRF-Token", token),
                                                      ("Content-Type", "multipart/form-data; boundary=\(boundary)")], body: body)
        #expect(upload.status == 200, "\(upload.text)")

        let credentials = try String(contentsOfFile: server.home + "/demo-credentials.txt", encoding: .utf8)
        let password = try #require(credentials.split(separator: "\n").first { $0.hasPrefix("user") }?.split(separator: " ").last)
        let owner = server.session()
        try owner.get("/login")
        try owner.post("/login", form: [("email", "owner@example.com"), ("password", String(password))])
        let download = try owner.get("/api/uploads/1/download")
        #expect(download.status == 200)
        #expect(download.body == bytes)
        #expect(download.headers["content-disposition"] == "attachment; filename=\"notes 1.txt\"; filename*=UTF-8''notes%201.txt")
        #expect(download.headers["x-content-type-options"] == "nosniff")
        // Local files come from nginx, which keeps none of the worker's headers but these: sandboxed,
        // framed by this site's preview page only.
        #expect(download.headers["content-security-policy"] == "sandbox; frame-ancestors 'self'")
        #expect(download.headers["x-frame-options"] == "SAMEORIGIN")
        #expect(download.headers["cache-control"] == "private, no-store", "once, not twice")
        #expect(download.headers["x-request-id"].map(Self.isRequestID) == true)
        let head = try HTTPClient.request(port: server.port, method: "HEAD", path: "/api/uploads/1/download",
                                          headers: [("Cookie", owner.cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; "))])
        #expect(head.status == 200 && head.body.isEmpty && head.headers["x-content-type-options"] == "nosniff")
    }

    @Test("the production example passes nginx -t and answers its own errors in Intake's shape")
    func productionConfig() throws {
        let production = try ProductionNginx()
        defer { production.stop() }
        // A plain-HTTP request to the TLS port is one nginx refuses itself (its 497), no TLS client needed.
        let api = try HTTPClient.request(port: production.tlsPort, path: "/api/portals")
        Self.expectIntakeError(api, status: 400, code: "bad_request", json: true)
        #expect(api.headers["strict-transport-security"] == "max-age=63072000; includeSubDomains", "the server's headers are repeated where add_header is")
        let page = try HTTPClient.request(port: production.tlsPort, path: "/dashboard")
        Self.expectIntakeError(page, status: 400, code: "bad_request", json: false)
        let redirect = try HTTPClient.request(port: production.httpPort, path: "/api/portals")
        #expect(redirect.status == 301 && redirect.headers["location"] == "https://127.0.0.1/api/portals")
    }

    // MARK: - Helpers

    static func isRequestID(_ value: String) -> Bool { value.count == 32 && value.allSatisfy(\.isHexDigit) }

    /// The shape ErrorResponder gives: `{"error":{"code","message"}}` as application/json, or the
    /// error page (the app's stylesheet, a card with a heading and a message); the security headers
    /// and one request id either way, and never nginx's own page.
    static func expectIntakeError(_ result: HTTPResult, status: Int, code: String, json: Bool, what: String = "",
                                  sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(result.status == status, "\(what): \(result.text.prefix(300))", sourceLocation: sourceLocation)
        let id = result.headers["x-request-id"] ?? ""
        #expect(isRequestID(id), "\(what): X-Request-Id \(id.isEmpty ? "missing" : id)", sourceLocation: sourceLocation)
        #expect(result.headers["x-content-type-options"] == "nosniff", "\(what)", sourceLocation: sourceLocation)
        #expect(result.headers["content-security-policy"]?.contains("frame-ancestors 'none'") == true, "\(what)", sourceLocation: sourceLocation)
        #expect(!result.text.contains("<center>nginx"), "\(what): nginx's own page", sourceLocation: sourceLocation)
        if json {
            #expect(result.headers["content-type"] == "application/json", "\(what)", sourceLocation: sourceLocation)
            let object = try? JSONSerialization.jsonObject(with: Data(result.body)) as? [String: Any]
            let error = object?["error"] as? [String: Any]
            #expect(object?.count == 1 && error?.count == 2, "\(what): \(result.text)", sourceLocation: sourceLocation)
            #expect(error?["code"] as? String == code, "\(what): \(result.text)", sourceLocation: sourceLocation)
            #expect((error?["message"] as? String)?.isEmpty == false, "\(what)", sourceLocation: sourceLocation)
        } else {
            #expect(result.headers["content-type"] == "text/html; charset=utf-8", "\(what)", sourceLocation: sourceLocation)
            let text = result.text
            #expect(text.contains(#"<link rel="stylesheet" href="/css/app.css">"#) && text.contains(#"<section class="card narrow error-page">"#),
                    "\(what): \(text.prefix(300))", sourceLocation: sourceLocation)
            #expect(!text.contains("<!--#"), "\(what): the page's SSI is processed", sourceLocation: sourceLocation)
            #expect(text.contains("request \(id)"), "\(what): the page names its request id", sourceLocation: sourceLocation)
            #expect(text.contains("<h1>") && !text.contains("<h1></h1>") && !text.contains("<p></p>"), "\(what): a heading and a message", sourceLocation: sourceLocation)
        }
    }
}

/// deploy/nginx-intake.conf, the production config, run as it is but for its paths: the socket, public/,
/// storage and the includes point into the package and a temporary directory, the certificate is
/// made here, and it listens on free loopback ports (IPv6 listens dropped).
final class ProductionNginx: @unchecked Sendable {  // used from one test; fields set once
    let directory: String
    let httpPort = FreePort.find()
    let tlsPort = FreePort.find()
    private let process: Process

    init() throws {
        var template = Array("/tmp/intake-prod-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw LaunchError("mkdtemp failed") }
        directory = String(cString: made)
        for sub in ["logs", "tmp", "storage"] {
            try FileManager.default.createDirectory(atPath: directory + "/" + sub, withIntermediateDirectories: true)
        }
        _ = try IntakeTestServer.run("/usr/bin/env", ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                                                      "-nodes", "-days", "1", "-subj", "/CN=intake.example.com",
                                                      "-keyout", directory + "/privkey.pem", "-out", directory + "/fullchain.pem"],
                                     environment: ProcessInfo.processInfo.environment)
        let root = IntakeTestServer.packageRoot
        var site = try String(contentsOfFile: root + "/deploy/nginx-intake.conf", encoding: .utf8)
        let paths = [("/run/intake/intake.sock", directory + "/intake.sock"), ("/opt/intake/public", root + "/public"),
                     ("/opt/intake/nginx/", root + "/nginx/"), ("/var/lib/intake/storage", directory + "/storage"),
                     ("/etc/letsencrypt/live/intake.example.com/", directory + "/"),
                     ("listen 80;", "listen 127.0.0.1:\(httpPort);"), ("listen 443 ssl http2;", "listen 127.0.0.1:\(tlsPort) ssl http2;")]
        for (from, to) in paths {
            guard site.contains(from) else { throw LaunchError("deploy/nginx-intake.conf no longer contains \(from)") }
            site = site.replacingOccurrences(of: from, with: to)
        }
        site = site.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.contains("listen [::]") }.joined(separator: "\n")
        try site.write(toFile: directory + "/site.conf", atomically: true, encoding: .utf8)
        // What /etc/nginx/nginx.conf would hold around a site, kept to the prefix.
        let main = """
            \(geteuid() == 0 ? "user root root;" : "")
            daemon off;
            pid logs/nginx.pid;
            error_log logs/error.log warn;
            events { worker_connections 64; }
            http {
                types { text/html html; text/css css; application/json json; }
                default_type application/octet-stream;
                access_log logs/access.log;
                client_body_temp_path tmp/client_body;
                fastcgi_temp_path tmp/fastcgi;
                proxy_temp_path tmp/proxy;
                uwsgi_temp_path tmp/uwsgi;
                scgi_temp_path tmp/scgi;
                include \(directory)/site.conf;
            }

            """
        try main.write(toFile: directory + "/nginx.conf", atomically: true, encoding: .utf8)
        let nginx = ["/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/bin/nginx"].first { FileManager.default.isExecutableFile(atPath: $0) } ?? "/usr/sbin/nginx"
        let arguments = ["-p", directory + "/", "-c", directory + "/nginx.conf", "-e", "logs/error.log"]
        _ = try IntakeTestServer.run(nginx, ["-t", "-q"] + arguments, environment: ProcessInfo.processInfo.environment)
        process = Process()
        process.executableURL = URL(fileURLWithPath: nginx)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if let fd = try? HTTPClient.connect(port: tlsPort, timeout: 1) { close(fd); return }
            usleep(50_000)
        }
        throw LaunchError("the production nginx did not listen: \((try? String(contentsOfFile: directory + "/logs/error.log", encoding: .utf8)) ?? "")")
    }

    func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGQUIT)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(atPath: directory)
    }
}
