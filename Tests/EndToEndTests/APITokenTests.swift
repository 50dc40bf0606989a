import Database
import Foundation
import Testing
import TestSupport

/// Personal API tokens through nginx: created on /account and shown once, stored hashed, used by
/// a script without a cookie or CSRF token, scoped, revoked, and refused when not valid.
@Suite("Personal API tokens through nginx", .serialized, .enabled(if: integrationEnabled, "set INTAKE_INTEGRATION=1 (scripts/test does)"))
struct APITokenTests {
    /// Creates a token on the account page of the signed-in `session`; returns it as the page shows it.
    static func createToken(_ session: WebSession, name: String, scope: String) throws -> String {
        _ = try session.get("/account")
        let created = try session.post("/account/tokens", form: [("token_name", name), ("token_scope", scope)])
        #expect(created.status == 201, "\(created.text.prefix(300))")
        #expect(created.headers["cache-control"] == "no-store")
        let text = created.text
        let start = try #require(text.range(of: "value=\"itk_"))
        return String(text[text.index(start.lowerBound, offsetBy: 7)...].prefix { $0 != "\"" })
    }

    static func api(_ port: UInt16, _ path: String, method: String = "GET", token: String?, json: String? = nil) throws -> HTTPResult {
        var headers: [(String, String)] = [("Accept", "application/json")]
        if let token { headers.append(("Authorization", "Bearer \(token)")) }
        if json != nil { headers.append(("Content-Type", "application/json")) }
        return try HTTPClient.request(port: port, method: method, path: path, headers: headers, body: Array((json ?? "").utf8))
    }

    @Test("a token is shown once and stored hashed; a script calls the API with it and no cookie; read-only may only read; revoked, unknown or a disabled user's token is refused with 401; a page ignores it")
    func tokens() throws {
        let site = try DemoSite(extraEnvironment: ["INTAKE_JOBS_INTERVAL": "3600"])
        defer { site.server.stop() }
        let port = site.server.port
        let db = site.db
        let reader = try Self.createToken(site.owner, name: "nightly backup", scope: "read")
        let writer = try Self.createToken(site.owner, name: "sync script", scope: "read_write")
        #expect(reader.hasPrefix("itk_") && reader.count == 47 && reader != writer)
        let stored = try db.query("SELECT * FROM api_tokens").flatMap { row in row.columns.compactMap { try? row.get($0, as: String?.self) } }
        #expect(!stored.contains { $0.contains(String(reader.dropFirst(10))) || $0.contains(String(writer.dropFirst(10))) }, "only a hash is kept")
        let account = try site.owner.get("/account").text
        #expect(account.contains("nightly backup") && account.contains(String(reader.prefix(10))) && !account.contains(reader), "listed, never shown again")

        // A script: no cookie, no CSRF token.
        let listed = try Self.api(port, "/api/portals", token: reader)
        #expect(listed.status == 200 && listed.text.contains("\"demo\""), "\(listed.status) \(listed.text.prefix(200))")
        #expect(!listed.setCookies.contains { $0.hasPrefix("intake_session") })
        let refusedWrite = try Self.api(port, "/api/portals", method: "POST", token: reader, json: #"{"name":"From a script","slug":"from-script","storageProvider":"local"}"#)
        #expect(refusedWrite.status == 403 && refusedWrite.text.contains("insufficient_scope"))
        let created = try Self.api(port, "/api/portals", method: "POST", token: writer, json: #"{"name":"From a script","slug":"from-script","storageProvider":"local"}"#)
        #expect(created.status == 201, "\(created.status) \(created.text.prefix(300))")
        #expect(try db.scalar("SELECT count(*) FROM portals WHERE slug = 'from-script'", as: Int.self) == 1)

        // Not valid: unknown, malformed, missing.
        for bad in ["itk_" + String(repeating: "A", count: 43), "not-a-token", String(writer.dropLast())] {
            let refused = try Self.api(port, "/api/portals", token: bad)
            #expect(refused.status == 401 && refused.text.contains("invalid_token"), "\(bad): \(refused.status)")
            #expect(refused.headers["www-authenticate"] == "Bearer realm=\"intake\", error=\"invalid_token\"")
        }
        let anonymous = try Self.api(port, "/api/portals", token: nil)
        #expect(anonymous.status == 401 && anonymous.headers["www-authenticate"] == "Bearer realm=\"intake\"")
        // A page is not the API: the token does not sign anyone in there.
        let page = try HTTPClient.request(port: port, path: "/dashboard", headers: [("Authorization", "Bearer \(writer)")])
        #expect(page.status == 303 && page.headers["location"]?.hasPrefix("/login") == true, "\(page.status)")

        // Revoked by its owner: refused at once. Another user's token id is not found.
        let readerID = try #require(try db.scalar("SELECT id FROM api_tokens WHERE name = 'nightly backup'", as: Int64.self))
        try site.server.createUser(email: "mallory@example.com", name: "Mallory")
        let mallory = site.server.session()
        _ = try mallory.get("/login")
        _ = try mallory.post("/login", form: [("email", "mallory@example.com"), ("password", "correct horse battery")])
        _ = try mallory.get("/account")
        #expect(try mallory.post("/account/tokens/\(readerID)/revoke", form: []).status == 404)
        #expect(try Self.api(port, "/api/portals", token: reader).status == 200, "still valid after another user's attempt")
        _ = try site.owner.get("/account")
        #expect(try site.owner.post("/account/tokens/\(readerID)/revoke", form: []).status == 303)
        #expect(try Self.api(port, "/api/portals", token: reader).status == 401)
        #expect(try db.scalar("SELECT count(*) FROM audit_log WHERE action IN ('api_token.create', 'api_token.revoke')", as: Int.self) == 3)

        // A disabled user's token is refused.
        try db.execute("UPDATE users SET disabled = 1 WHERE email_normalized = 'owner@example.com'")
        #expect(try Self.api(port, "/api/portals", token: writer).status == 401)
        try db.execute("UPDATE users SET disabled = 0 WHERE email_normalized = 'owner@example.com'")
        #expect(try Self.api(port, "/api/portals", token: writer).status == 200)

        let log = site.server.serveLogText()
        #expect(!log.contains(String(reader.dropFirst(4))) && !log.contains(String(writer.dropFirst(4))), "no token in the log")
    }

    @Test("the token form answers a missing name and a bad scope on the first submit, keeping what was typed")
    func formErrors() throws {
        let site = try DemoSite(extraEnvironment: ["INTAKE_JOBS_INTERVAL": "3600"])
        defer { site.server.stop() }
        _ = try site.owner.get("/account")
        let refused = try site.owner.post("/account/tokens", form: [("token_name", "  "), ("token_scope", "admin")])
        #expect(refused.status == 422)
        #expect(refused.text.contains("Name the token after what will use it") && refused.text.contains("Choose read only, or read and write."))
        #expect(try site.db.scalar("SELECT count(*) FROM api_tokens", as: Int.self) == 0)
    }
}
