import Database
import Foundation
import Testing
import TestSupport

@Suite("People and pages through nginx", .serialized, .enabled(if: integrationEnabled, "set INTAKE_INTEGRATION=1 (scripts/test does)"))
struct PeopleTests {
    let password = "correct horse battery"

    @Test("sign in, see the dashboard, sign out; the session cookie before sign-in is not the one after")
    func signInAndOut() throws {
        let server = try IntakeTestServer()
        defer { server.stop() }
        try server.createUser(email: "ada@example.com", name: "Ada Lovelace")
        let browser = server.session()
        browser.setCookie("intake_session", "planted-by-an-attacker-0123456789abcdefghijklmn")
        let login = try browser.get("/login")
        #expect(login.status == 200 && login.text.contains("Sign in"))
        let signIn = try browser.post("/login", form: [("email", "ada@example.com"), ("password", password), ("next", "/account")])
        #expect(signIn.status == 303)
        #expect(signIn.headers["location"] == "/account")
        let session = try #require(browser.cookies["intake_session"])
        #expect(session != "planted-by-an-attacker-0123456789abcdefghijklmn")
        #expect(signIn.setCookies.first { $0.hasPrefix("intake_session=") }?.contains("HttpOnly") == true)
        #expect(signIn.setCookies.first { $0.hasPrefix("intake_session=") }?.contains("SameSite=Lax") == true)

        let dashboard = try browser.get("/dashboard")
        #expect(dashboard.status == 200 && dashboard.text.contains("Welcome, Ada Lovelace"))

        // Signing in again gives yet another session; the old cookie stops working.
        try browser.get("/login")
        let again = try browser.post("/login", form: [("email", "ada@example.com"), ("password", password)])
        #expect(again.status == 303)
        let old = server.session()
        old.setCookie("intake_session", session)
        #expect(try old.get("/dashboard").status == 303, "the earlier session must not survive a new sign-in from the same browser")

        try browser.get("/dashboard")  // the sign-out form carries the new session's token
        let out = try browser.post("/logout", form: [])
        #expect(out.status == 303 && out.headers["location"] == "/login")
        #expect(browser.cookies["intake_session"] == nil)
        #expect(try browser.get("/login").text.contains("You have signed out."))
        #expect(try browser.get("/dashboard").status == 303)
    }

    @Test("a wrong password and an unknown e-mail get the same message")
    func wrongPassword() throws {
        let server = try IntakeTestServer()
        defer { server.stop() }
        try server.createUser(email: "ada@example.com")
        let browser = server.session()
        try browser.get("/login")
        let wrong = try browser.post("/login", form: [("email", "ada@example.com"), ("password", "not the password")])
        let unknown = try browser.post("/login", form: [("email", "nobody@example.com"), ("password", "not the password")])
        #expect(wrong.status == 401 && unknown.status == 401)
        let message = "The e-mail address or the password is not right."
        #expect(wrong.text.contains(message) && unknown.text.contains(message))
        #expect(browser.cookies["intake_session"] == nil)
    }

    @Test("a form post without or with a wrong CSRF token, or from another origin, changes nothing")
    func csrf() throws {
        let server = try IntakeTestServer()
        defer { server.stop() }
        try server.createUser(email: "ada@example.com", name: "Ada")
        let browser = server.session()
        try browser.get("/login")
        try browser.post("/login", form: [("email", "ada@example.com"), ("password", password)])
        try browser.get("/account")
        #expect(try browser.post("/account/profile", form: [("name", "Changed")], csrf: .none).status == 403)
        #expect(try browser.post("/account/profile", form: [("name", "Changed")], csrf: .value("forged")).status == 403)
        let crossOrigin = try browser.post("/account/profile", form: [("name", "Changed")], headers: [("Origin", "http://evil.example")])
        #expect(crossOrigin.status == 403)
        #expect(try browser.get("/account").text.contains("value=\"Ada\""), "the name is unchanged")
        #expect(try browser.post("/account/profile", form: [("name", "Changed")], headers: [("Origin", "http://127.0.0.1:\(server.port)")]).status == 303)
        #expect(try browser.get("/account").text.contains("value=\"Changed\""))
    }

    @Test("/admin as a user is 403; as an admin it shows the overview")
    func adminOnly() throws {
        let server = try IntakeTestServer()
        defer { server.stop() }
        try server.createUser(email: "user@example.com")
        try server.createUser(email: "root@example.com", role: "admin")
        let user = server.session()
        try user.get("/login")
        try user.post("/login", form: [("email", "user@example.com"), ("password", password)])
        #expect(try user.get("/admin").status == 403)
        #expect(try user.get("/admin/users").status == 403)
        let admin = server.session()
        try admin.get("/login")
        try admin.post("/login", form: [("email", "root@example.com"), ("password", password)])
        let overview = try admin.get("/admin")
        #expect(overview.status == 200 && overview.text.contains("Operator overview"))
        #expect(overview.text.contains(#"<span class="stat-value">0</span> <span class="stat-label">portals</span>"#))
        #expect(overview.text.contains("Virus scanning is off"))
        #expect(overview.text.contains(#"<span class="stat-value">0</span> <span class="stat-label">failed deliveries</span>"#))
        #expect(!overview.text.contains("could not be delivered"))
        // A delivery that gave up is an operator's concern too.
        let db = try server.openDatabase()
        try db.executeScript("""
            INSERT INTO portals (user_id, name, slug, created_at, updated_at) VALUES (1, 'P', 'p', 0, 0);
            INSERT INTO file_uploads (portal_id, user_id, file_name, size_bytes, status, created_at, updated_at) VALUES (1, 1, 'a.pdf', 10, 'failed', 0, 0);
            """)
        let troubled = try admin.get("/admin").text
        #expect(troubled.contains(#"<span class="stat-value">1</span> <span class="stat-label">failed deliveries</span>"#))
        #expect(troubled.contains("1 file could not be delivered"))
        let users = try admin.get("/admin/users?q=user")
        #expect(users.status == 200 && users.text.contains("user@example.com") && !users.text.contains("root@example.com"))
    }

    @Test("an open-redirect attempt in the return path lands on the dashboard")
    func openRedirect() throws {
        let server = try IntakeTestServer()
        defer { server.stop() }
        try server.createUser(email: "ada@example.com")
        for next in ["//evil.example/x", "https://evil.example", "/\\evil.example"] {
            let browser = server.session()
            let page = try browser.get("/login?next=" + WebSessionEncoding.encode(next))
            #expect(!page.text.contains("evil.example"))
            let signIn = try browser.post("/login", form: [("email", "ada@example.com"), ("password", password), ("next", next)])
            #expect(signIn.headers["location"] == "/dashboard", "next=\(next)")
        }
        let anonymous = server.session()
        let bounce = try anonymous.get("/admin/users?q=a")
        #expect(bounce.status == 303 && bounce.headers["location"] == "/login?next=%2Fadmin%2Fusers%3Fq%3Da")
    }
}

enum WebSessionEncoding {
    static func encode(_ s: String) -> String { s.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? s }
}
