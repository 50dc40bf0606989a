import Database
import Foundation
import Testing
import TestSupport

/// Requests of the signed-in owner that the WebSession helper does not make (PUT, DELETE, JSON).
extension DemoSite {
    func ownerRequest(_ method: String, _ path: String, json: String? = nil) throws -> HTTPResult {
        var headers = [("Cookie", "intake_session=\(owner.cookies["intake_session"]!)"), ("X-CSRF-Token", owner.csrfToken!), ("Accept", "application/json")]
        if json != nil { headers.append(("Content-Type", "application/json")) }
        return try HTTPClient.request(port: server.port, method: method, path: path, headers: headers, body: Array((json ?? "").utf8))
    }

    /// The demo portal's files through tus: the creation request only.
    func tusCreate(length: Int64, name: String) throws -> HTTPResult {
        let metadata = ["portalId " + Data("1".utf8).base64EncodedString(), "filename " + Data(name.utf8).base64EncodedString(),
                        "clientName " + Data("Ada".utf8).base64EncodedString()].joined(separator: ",")
        return try HTTPClient.request(port: server.port, method: "POST", path: "/api/tus/",
                                      headers: [("Tus-Resumable", "1.0.0"), ("Upload-Length", String(length)), ("Upload-Metadata", metadata)])
    }
}

@Suite("Portal rules as the seed has them: bindings, plan limits, the API's shapes, the edit page", .serialized,
       .enabled(if: integrationEnabled, "set INTAKE_INTEGRATION=1 (scripts/test does)"))
struct PortalRulesTests {
    @Test("a portal whose account is in error takes no uploads (nothing lands on another account or provider) and cannot be switched on")
    func noFallbackFromItsOwnAccount() throws {
        let site = try DemoSite()
        defer { site.server.stop() }
        // A Google Drive account in ERROR becomes the demo portal's; the local disk account stays active.
        try site.db.execute("""
            INSERT INTO storage_accounts (user_id, provider, provider_account_id, display_name, status, last_error, created_at, updated_at)
            VALUES (2, 'google_drive', 'g-1', 'Google Drive', 'ERROR', 'refresh failed', 0, 0)
            """)
        try site.db.execute("UPDATE portals SET storage_account_id = 2 WHERE id = 1")
        let refused = try site.upload([("report.pdf", Array("%PDF-1.7\n".utf8))])
        #expect(refused.status == 503 && refused.text.contains(#""code":"portal_closed""#), "\(refused.text)")
        #expect(try site.db.scalar("SELECT count(*) FROM file_uploads", as: Int.self) == 0)
        #expect(IntakeTestServer.files(under: site.server.home + "/storage").isEmpty)
        let page = try site.owner.get("/dashboard/portals").text
        #expect(page.contains("Its storage account has an error"), "the owner sees why")
        try site.owner.post("/dashboard/portals/1/toggle", form: [])  // off
        _ = try site.owner.get("/dashboard/portals")
        try site.owner.post("/dashboard/portals/1/toggle", form: [])  // on: refused
        let after = try site.owner.get("/dashboard/portals").text
        #expect(after.contains("cannot be switched on") && after.contains("has an error"), "\(after)")
        #expect(try site.db.scalar("SELECT active FROM portals WHERE id = 1", as: Int.self) == 0)
        _ = try site.owner.get("/dashboard/portals")
        let api = try site.ownerRequest("PUT", "/api/portals/1", json: #"{"isActive":true}"#)
        #expect(api.status == 409 && api.text.contains("cannot be switched on"))
    }

    @Test("a plan's limits hold on every path: portals per plan (form and API), the largest file (form, API and tus), also for a portal without its own limit")
    func planLimits() throws {
        let site = try DemoSite()
        defer { site.server.stop() }
        try site.db.execute("""
            INSERT INTO tariff_plans (name, monthly_price_minor, currency, storage_bytes, max_file_bytes, max_portals, created_at, updated_at)
            VALUES ('Small', 0, 'USD', 10000000000, 1000000, 2, 0, 0)
            """)
        try site.db.execute("UPDATE users SET plan_id = 1 WHERE email_normalized = 'owner@example.com'")
        _ = try site.owner.get("/dashboard/portals")
        let second = try site.owner.post("/dashboard/portals", form: [("name", "Second"), ("slug", "second"), ("storage_account_id", "1"), ("max_files", "20")])
        #expect(second.status == 303)
        _ = try site.owner.get("/dashboard/portals")
        let third = try site.owner.post("/dashboard/portals", form: [("name", "Third"), ("slug", "third"), ("storage_account_id", "1"), ("max_files", "20")])
        #expect(third.status == 422 && third.text.contains("Your plan allows 2 portals and you have 2."), "\(third.text.prefix(300))")
        _ = try site.owner.get("/dashboard/portals")
        let viaAPI = try site.ownerRequest("POST", "/api/portals", json: #"{"name":"Third","slug":"third","storageAccountId":"1"}"#)
        #expect(viaAPI.status == 422 && viaAPI.text.contains("Your plan allows 2 portals"))
        #expect(try site.db.scalar("SELECT count(*) FROM portals", as: Int.self) == 2)

        // The demo portal has no size limit of its own: the plan's 1 MB holds.
        let big = Array("%PDF-1.7\n".utf8) + Array(repeating: UInt8(7), count: 1_100_000)
        let script = try site.upload([("big.pdf", big)])
        #expect(script.status == 413 && script.text.contains(#""code":"file_too_large""#), "\(script.text)")
        let boundary = "----plan"
        let form = try HTTPClient.request(port: site.server.port, method: "POST", path: "/p/demo/upload",
                                          headers: [("Cookie", "intake_csrf=\(site.token)"), ("Content-Type", "multipart/form-data; boundary=\(boundary)")],
                                          body: DemoSite.multipart(boundary: boundary, fields: [("csrf_token", site.token), ("clientName", "Ada")],
                                                                   files: [("big.pdf", big)]))
        #expect(form.status == 413 && form.text.contains("is larger than 1 MB"))
        let tus = try site.tusCreate(length: 1_100_000, name: "big.pdf")
        #expect(tus.status == 413, "\(tus.status) \(tus.text)")
        #expect(try site.db.scalar("SELECT count(*) FROM file_uploads", as: Int.self) == 0)
        #expect(try site.server.get("/p/demo").text.contains("1 MB"), "the portal page says the limit that holds")
        #expect(try site.upload([("small.pdf", Array("%PDF-1.7\n".utf8))]).status == 200)
    }

    @Test("the API's shapes: GET /api/uploads/:id, storageProvider and _count on portals, isActive and the client fields taken, an unknown field named")
    func apiShapes() throws {
        let site = try DemoSite()
        defer { site.server.stop() }
        let sent = try site.upload([("notes.txt", Array("hello\n".utf8))])
        let id = try #require(DemoSite.string("uploadId", in: sent.text))
        let one = try site.ownerRequest("GET", "/api/uploads/" + id)
        #expect(one.status == 200 && one.text.contains(#""fileName":"notes.txt""#) && one.text.contains(#""storageProvider":"local""#))
        #expect(try site.ownerRequest("GET", "/api/uploads/999").status == 404)
        let list = try site.ownerRequest("GET", "/api/portals")
        #expect(list.text.contains(#""storageProvider":"local""#) && list.text.contains(#""_count":{"uploads":1}"#), "\(list.text)")

        let made = try site.ownerRequest("POST", "/api/portals",
                                         json: #"{"name":"Intake forms","slug":"forms","storageProvider":"local","requireClientName":false,"requireClientEmail":true}"#)
        #expect(made.status == 201 && made.text.contains(#""requireClientName":false"#) && made.text.contains(#""requireClientEmail":true"#)
                && made.text.contains(#""storageAccountId":"1""#), "\(made.text)")
        let off = try site.ownerRequest("PUT", "/api/portals/2", json: #"{"isActive":false}"#)
        #expect(off.status == 200 && off.text.contains(#""isActive":false"#))
        #expect(try site.db.scalar("SELECT active FROM portals WHERE id = 2", as: Int.self) == 0)
        let unknown = try site.ownerRequest("PUT", "/api/portals/2", json: #"{"name":"X","colour":"red","maxFiles":"many"}"#)
        #expect(unknown.status == 422 && unknown.text.contains(#""colour":"Unknown field.""#) && unknown.text.contains(#""maxFiles":"Must be a whole number.""#),
                "\(unknown.text)")
        #expect(try site.db.scalar("SELECT name FROM portals WHERE id = 2", as: String.self) == "Intake forms", "nothing changed")
        let mismatch = try site.ownerRequest("POST", "/api/portals", json: #"{"name":"Y","slug":"y","storageProvider":"dropbox"}"#)
        #expect(mismatch.status == 422 && mismatch.text.contains("storageProvider"))
    }

    @Test("the owner edits a portal on its page: every setting, the storage account among them (for files from now on), errors kept beside the fields")
    func editPage() throws {
        let site = try DemoSite()
        defer { site.server.stop() }
        try site.db.execute("""
            INSERT INTO storage_accounts (user_id, provider, provider_account_id, display_name, status, created_at, updated_at)
            VALUES (2, 'local', 'second-disk', 'Second disk', 'ACTIVE', 0, 0)
            """)
        let list = try site.owner.get("/dashboard/portals").text
        #expect(list.contains(#"href="/dashboard/portals/1""#))
        let page = try site.owner.get("/dashboard/portals/1")
        #expect(page.status == 200 && page.text.contains(#"value="Demo uploads""#) && page.text.contains("Second disk"))
        let bad = try site.owner.post("/dashboard/portals/1", form: [("name", ""), ("slug", "demo"), ("storage_account_id", "1"), ("max_files", "20")])
        #expect(bad.status == 422 && bad.text.contains("Enter a name."))
        _ = try site.owner.get("/dashboard/portals/1")
        // Every field answered on the first submit, each message fitting its field.
        let all = try site.owner.post("/dashboard/portals/1", form: [
            ("name", ""), ("slug", "Not a slug!"), ("storage_account_id", "1"), ("max_files", "99999"), ("password", "abc"),
            ("max_file_number", "-5"), ("max_file_unit", "MB"), ("description", String(repeating: "x", count: 2001)),
        ])
        for message in ["Enter a name.", "That is too large. Enter a number from 1 to 1000.", "Use at least 6 characters",
                        "A size cannot be negative.", "Use at most 2000 characters."] {
            #expect(all.status == 422 && all.text.contains(message), "\(message)")
        }
        #expect(all.text.contains(#"id="slug-error""#) && all.text.components(separatedBy: #"id="slug-error">"#).dropFirst().first?.hasPrefix("<") == false,
                "the slug's error shows in the same answer")
        _ = try site.owner.get("/dashboard/portals/1")
        let saved = try site.owner.post("/dashboard/portals/1", form: [
            ("name", "Client files"), ("slug", "demo"), ("storage_account_id", "2"), ("max_files", "3"), ("client_name_mode", "optional"),
            ("client_email_mode", "required"), ("description", "Send us your papers"), ("upload_notifications", "none"),
        ])
        #expect(saved.status == 303)
        let row = try #require(try site.db.queryOne("SELECT * FROM portals WHERE id = 1"))
        #expect(try row.get("name", as: String.self) == "Client files" && row.get("storage_account_id", as: Int64.self) == 2)
        #expect(try row.get("max_files", as: Int.self) == 3 && row.get("client_email_mode", as: String.self) == "required")
        #expect(try row.get("upload_notifications", as: String?.self) == "none" && row.get("message_field", as: Int.self) == 0)
        let again = try site.owner.get("/dashboard/portals/1").text
        #expect(again.contains(#"<option value="required" selected>Required</option>"#) && again.contains(#"<option value="none" selected>No mail</option>"#))
        #expect(try site.server.get("/p/demo").text.contains("Send us your papers"))
        // The next file goes to the second account, and the owner's "none" means no mail.
        let sent = try site.upload([("later.txt", Array("later\n".utf8))], fields: [("clientEmail", "ada@example.com")])
        #expect(sent.status == 200, "\(sent.text)")
        #expect(try site.db.scalar("SELECT storage_account_id FROM file_uploads", as: Int64.self) == 2)
        #expect(try site.db.scalar("SELECT count(*) FROM mail_outbox", as: Int.self) == 0)
        #expect(try site.db.scalar("SELECT last_accessed_at FROM storage_accounts WHERE id = 2", as: Int64?.self) != nil, "every use is recorded")
        // Another owner cannot open or save it.
        try site.server.createUser(email: "other@example.com")
        let other = site.server.session()
        _ = try other.get("/login")
        _ = try other.post("/login", form: [("email", "other@example.com"), ("password", "correct horse battery")])
        #expect(try other.get("/dashboard/portals/1").status == 404)
        _ = try other.get("/dashboard")
        #expect(try other.post("/dashboard/portals/1", form: [("name", "Mine"), ("slug", "demo"), ("storage_account_id", "2"), ("max_files", "3")]).status == 404)
    }

    @Test("the owner's notification preference on /account: daily means no mail per file")
    func notificationPreference() throws {
        let site = try DemoSite()
        defer { site.server.stop() }
        let account = try site.owner.get("/account").text
        #expect(account.contains(#"value="each" checked"#))
        #expect(try site.owner.post("/account/notifications", form: [("upload_notifications", "daily")]).status == 303)
        #expect(try site.owner.get("/account").text.contains(#"value="daily" checked"#))
        #expect(try site.upload([("a.txt", Array("a\n".utf8))]).status == 200)
        #expect(try site.db.scalar("SELECT count(*) FROM mail_outbox", as: Int.self) == 0)
        #expect(try site.db.scalar("SELECT count(*) FROM upload_digest_items", as: Int.self) == 1)
        _ = try site.owner.get("/account")
        #expect(try site.owner.post("/account/notifications", form: [("upload_notifications", "loud")]).status == 422)
    }
}
