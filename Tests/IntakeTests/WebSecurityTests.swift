import Database
import Foundation
import Intake
@testable import IntakeWeb
import Logging
import Templates
import Testing
import Web

/// The application with a real database and the real templates, driven without a transport.
struct AppHarness {
    let app: Application
    let services: WorkerServices
    let db: Database
    let clock = ManualClock()

    init(db: Database, environment: [String: String] = [:]) throws {
        self.db = db
        let config = try Configuration.load(environment.merging(["INTAKE_BASE_URL": "http://intake.test"]) { mine, _ in mine },
                                            workingDirectory: "/tmp")
        services = WorkerServices(configuration: config, database: db, templates: try TemplateLibrary(directory: templatesDirectory),
                                  logger: Logger(label: "test"), clock: clock, secretKey: Array(repeating: 7, count: 32))
        app = Application(services: services)
    }

    func send(_ method: HTTPMethod, _ uri: String, cookies: [String: String] = [:], form: [(String, String)]? = nil,
              headers: [(String, String)] = []) -> Response {
        var h = HTTPHeaders()
        if !cookies.isEmpty { h.add("cookie", cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; ")) }
        var body: [UInt8] = []
        if let form {
            h.add("content-type", "application/x-www-form-urlencoded")
            body = Array(form.map { "\(URLEncodedForm.encode($0.0))=\(URLEncodedForm.encode($0.1))" }.joined(separator: "&").utf8)
        }
        for (k, v) in headers { h.add(k, v) }
        return app.respond(to: Request(method: method, uri: uri, headers: h, remoteAddress: "203.0.113.9", id: "t",
                                       body: RequestBody(bytes: body)))
    }

    /// A signed-in session for a new user of `role`: the cookie and the CSRF token.
    func signIn(_ role: Role) throws -> (cookie: [String: String], csrf: String) {
        let user = try UserStore(db: db, clock: clock).create(email: "\(role.rawValue)\(Int.random(in: 0..<1_000_000))@example.com",
                                                            name: "N", password: "long enough pw", role: role)
        let (token, session) = try SessionStore(db: db, clock: clock).create(userID: user.id, remoteAddress: "", userAgent: "")
        return (["intake_session": token], session.csrfToken)
    }
}

extension Response {
    var text: String { if case .bytes(let b) = body { return String(decoding: b, as: UTF8.self) }; return "" }
    func cookie(_ name: String) -> String? {
        headers.values("set-cookie").first { $0.hasPrefix(name + "=") }.map { String($0.dropFirst(name.count + 1).prefix { $0 != ";" }) }
    }
}

@Suite("Web security")
struct WebSecurityTests {
    @Test("a form post without the CSRF token, or with a wrong one, is refused and changes nothing")
    func csrfToken() throws {
        try withDatabase { db in
            let h = try AppHarness(db: db)
            let (cookie, csrf) = try h.signIn(.user)
            let missing = h.send(.post, "/account/profile", cookies: cookie, form: [("name", "Mallory")])
            #expect(missing.status == .forbidden)
            #expect(missing.text.contains("nothing was changed"))
            let wrong = h.send(.post, "/account/profile", cookies: cookie, form: [("name", "Mallory"), ("csrf_token", csrf + "x")])
            #expect(wrong.status == .forbidden)
            #expect(try db.scalar("SELECT count(*) FROM users WHERE name = 'Mallory'", as: Int.self) == 0)
            let right = h.send(.post, "/account/profile", cookies: cookie, form: [("name", "Ada"), ("csrf_token", csrf)])
            #expect(right.status == .seeOther)
            #expect(try db.scalar("SELECT count(*) FROM users WHERE name = 'Ada'", as: Int.self) == 1)
            let header = h.send(.post, "/account/profile", cookies: cookie, form: [("name", "Ada B")],
                                headers: [("X-CSRF-Token", csrf)])
            #expect(header.status == .seeOther, "scripts may send the token as a header")
        }
    }

    @Test("a cross-origin Origin is refused even with the right token; the same origin passes")
    func origin() throws {
        try withDatabase { db in
            let h = try AppHarness(db: db)
            let (cookie, csrf) = try h.signIn(.user)
            let evil = h.send(.post, "/account/profile", cookies: cookie, form: [("name", "X"), ("csrf_token", csrf)],
                              headers: [("Origin", "http://evil.test")])
            #expect(evil.status == .forbidden)
            #expect(evil.text.contains("another site"))
            let same = h.send(.post, "/account/profile", cookies: cookie, form: [("name", "Y"), ("csrf_token", csrf)],
                              headers: [("Origin", "http://intake.test")])
            #expect(same.status == .seeOther)
        }
    }

    @Test("visitors get a double-submit CSRF cookie that the sign-in form must echo")
    func visitorToken() throws {
        try withDatabase { db in
            let h = try AppHarness(db: db)
            let page = h.send(.get, "/login")
            let token = try #require(page.cookie("intake_csrf"))
            #expect(page.text.contains("value=\"\(token)\""))
            let forged = h.send(.post, "/login", cookies: ["intake_csrf": token], form: [("email", "a@b.c"), ("password", "x")])
            #expect(forged.status == .forbidden)
            let real = h.send(.post, "/login", cookies: ["intake_csrf": token], form: [("email", "a@b.c"), ("password", "x"), ("csrf_token", token)])
            #expect(real.status == .unauthorized)
        }
    }

    @Test("roles: anonymous → sign-in with a return path, user on /admin → 403, admin → 200", arguments: ["/admin", "/admin/users"])
    func roles(path: String) throws {
        try withDatabase { db in
            let h = try AppHarness(db: db)
            let anonymous = h.send(.get, path + "?q=a")
            #expect(anonymous.status == .seeOther)
            #expect(anonymous.headers["location"] == "/login?next=" + URLEncodedForm.encode(path + "?q=a"))
            let user = h.send(.get, path, cookies: try h.signIn(.user).cookie)
            #expect(user.status == .forbidden)
            #expect(user.text.contains("administrators only"))
            let admin = h.send(.get, path, cookies: try h.signIn(.admin).cookie)
            #expect(admin.status == .ok)
            #expect(h.send(.get, "/dashboard").headers["location"]?.hasPrefix("/login") == true)
        }
    }

    @Test("the API answers anonymous requests with the JSON error shape")
    func apiShape() throws {
        try withDatabase { db in
            let h = try AppHarness(db: db)
            let r = h.send(.get, "/api/nothing")
            #expect(r.status == .notFound && r.text == #"{"error":{"code":"not_found","message":"There is no page at this address."}}"#)
        }
    }

    @Test("return paths after sign-in stay on this site", arguments: [
        ("/admin/users?q=x", "/admin/users?q=x"), ("//evil.test/x", "/dashboard"), ("/\\evil.test", "/dashboard"),
        ("https://evil.test", "/dashboard"), ("javascript:alert(1)", "/dashboard"), ("", "/dashboard"), ("/ok\r\nx", "/dashboard"),
    ])
    func localRedirect(input: String, expected: String) {
        #expect(LocalRedirect.sanitize(input) == expected)
    }

    @Test("a file delete goes back to the files list it came from, and nowhere else", arguments: [
        ("/dashboard/files?client=Ada&before=9", "/dashboard/files?client=Ada&before=9"), ("/dashboard/portals", "/dashboard/files"),
        ("/dashboard/files/../../admin?x", "/dashboard/files"), ("//evil.test/dashboard/files?x", "/dashboard/files"),
        ("/dashboard/files?\r\nSet-Cookie: x", "/dashboard/files"), ("", "/dashboard/files"),
    ])
    func fileListReturnPath(input: String, expected: String) {
        #expect(FileListReturn.path(input) == expected)
    }

    @Test("every HTML page carries the security headers")
    func headers() throws {
        try withDatabase { db in
            let h = try AppHarness(db: db)
            for path in ["/login", "/nope"] {
                let r = h.send(.get, path)
                #expect(r.headers["content-security-policy"]?.contains("default-src 'self'") == true)
                #expect(r.headers["content-security-policy"]?.contains("frame-ancestors 'none'") == true)
                #expect(r.headers["x-content-type-options"] == "nosniff")
                #expect(r.headers["referrer-policy"] == "same-origin")
            }
        }
    }

    @Test("a visitor's CSRF cookie is made only for a response that carries the token: a page, not a health check or JSON")
    func visitorTokenOnlyWhenUsed() throws {
        try withDatabase { db in
            let h = try AppHarness(db: db)
            let health = h.send(.get, "/healthz")
            #expect(health.status == .ok && health.headers.values("set-cookie").isEmpty)
            #expect(health.headers["x-content-type-options"] == "nosniff" && health.headers["x-frame-options"] == "DENY",
                    "the security headers are on every response")
            #expect(h.send(.get, "/dashboard").headers.values("set-cookie").isEmpty, "a redirect to sign in")
            #expect(h.send(.get, "/api/portals").headers.values("set-cookie").isEmpty, "a JSON refusal")
            let page = h.send(.get, "/login")
            let token = try #require(page.cookie("intake_csrf"))
            #expect(page.text.contains("value=\"\(token)\""))
            #expect(page.headers.values("set-cookie").count == 1, "one cookie, however often the page reads the token")
            #expect(h.send(.get, "/login", cookies: ["intake_csrf": token]).cookie("intake_csrf") == nil, "a sent token is kept")
            let refused = h.send(.post, "/login", form: [("email", "a@b.c"), ("password", "x"), ("csrf_token", "guess")])
            #expect(refused.status == .forbidden)
        }
    }

    @Test("a signed-in page shows the navigation for the role with the current section marked")
    func navigation() throws {
        try withDatabase { db in
            let h = try AppHarness(db: db)
            let (user, _) = try h.signIn(.user)
            let files = h.send(.get, "/dashboard/files", cookies: user).text
            #expect(files.contains(#"href="/dashboard/files" aria-current="page""#) && !files.contains(#"href="/admin""#))
            let (admin, _) = try h.signIn(.admin)
            let quotas = h.send(.get, "/admin/storage/quotas", cookies: admin).text
            // The header marks the admin area; the admin menu marks the page, not its overview.
            #expect(quotas.contains(#"<a href="/admin" aria-current="page">Admin</a>"#)
                        && quotas.contains(#"href="/admin/storage/quotas" aria-current="page">Quotas</a>"#) && !quotas.contains(#"aria-current="page">Overview"#))
            #expect(h.send(.get, "/account", cookies: admin).text.contains(#"href="/account" aria-current="page""#))
        }
    }

    @Test("flash messages are signed: a forged one is ignored")
    func flash() throws {
        try withDatabase { db in
            let h = try AppHarness(db: db)
            let (cookie, csrf) = try h.signIn(.user)
            let saved = h.send(.post, "/account/profile", cookies: cookie, form: [("name", "Ada"), ("csrf_token", csrf)])
            let flash = try #require(saved.cookie("intake_flash"))
            var withFlash = cookie
            withFlash["intake_flash"] = flash
            #expect(h.send(.get, "/account", cookies: withFlash).text.contains("Your name was saved."))
            withFlash["intake_flash"] = "c3VjY2VzcwpDYWxsIDA4MDAgbm93." + String(flash.split(separator: ".")[1])
            #expect(!h.send(.get, "/account", cookies: withFlash).text.contains("Call 0800"))
        }
    }
}

/// A database that is gone: every statement fails, as when the file cannot be reached.
final class UnreachableDatabase: Database {
    let dialect = SQLDialect.sqlite
    let location = DatabaseLocation.sqlite(path: "/nonexistent/intake.db")
    func fail() -> DatabaseError { DatabaseError(.unavailable, "disk I/O error") }
    func execute(_ sql: String, _ arguments: [any DatabaseValueConvertible]) throws -> Int { throw fail() }
    func query(_ sql: String, _ arguments: [any DatabaseValueConvertible]) throws -> [Row] { throw fail() }
    func executeScript(_ sql: String) throws { throw fail() }
    func write<T>(_ body: () throws -> T) throws -> T { throw fail() }
    func read<T>(_ body: () throws -> T) throws -> T { throw fail() }
    func updatePlannerStatistics() throws { throw fail() }
}

@Suite("Health")
struct HealthTests {
    @Test("/healthz is 503 with database unreachable when the database fails, and says nothing more")
    func unreachable() throws {
        let h = try AppHarness(db: UnreachableDatabase())
        let r = h.send(.get, "/healthz")
        #expect(r.status == .serviceUnavailable)
        #expect(r.text == #"{"status":"error","version":"0.1.0","database":"unreachable"}"#)
    }

    @Test("a page whose database fails is a plain 500 that does not leak the error")
    func internalError() throws {
        let h = try AppHarness(db: UnreachableDatabase())
        let r = h.send(.get, "/login", cookies: ["intake_session": "x"])
        #expect(r.status == .internalServerError)
        #expect(!r.text.contains("disk I/O") && r.text.contains("request t"))
    }
}
