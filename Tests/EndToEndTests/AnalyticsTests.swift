import Database
import Foundation
import Testing
import TestSupport

/// The storage analytics through nginx: `/dashboard/analytics` and `GET /api/v1/analytics` after
/// uploads made through two portals, for all files, the storage account and each portal; another
/// owner's portal or account is a 404 like a missing one; an owner with no files sees zeros.
@Suite("Storage analytics through nginx", .serialized, .enabled(if: integrationEnabled, "set INTAKE_INTEGRATION=1 (scripts/test does)"))
struct AnalyticsTests {
    func json(_ result: HTTPResult) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(result.body)) as? [String: Any], "\(result.status) \(result.text.prefix(300))")
    }

    func stored(_ body: [String: Any]) -> (files: Int, bytes: Int) {
        let s = body["stored"] as? [String: Any]
        return (s?["files"] as? Int ?? -1, s?["bytes"] as? Int ?? -1)
    }

    @Test("the page and the JSON count the uploads made through each portal; the selector narrows them; another owner's ids are 404")
    func analytics() throws {
        let site = try DemoSite()
        defer { site.server.stop() }
        let owner = site.owner, db = site.db
        let account = try #require(try db.scalar("SELECT storage_account_id FROM portals WHERE id = 1", as: Int64.self))

        // Before any upload: zeros, and the page still draws its charts and tables.
        let empty = try owner.get("/dashboard/analytics")
        #expect(empty.status == 200, "\(empty.text.prefix(500))")
        #expect(empty.text.contains(#"<dd class="stored-files">0</dd>"#) && empty.text.contains("No files received in these 90 days."))
        #expect(empty.text.contains(#"href="/dashboard/analytics""#), "linked from the navigation")
        let none = try json(try owner.get("/api/v1/analytics"))
        #expect(stored(none) == (0, 0) && (none["days"] as? [Any])?.count == 90)

        // A second portal of the owner on the same storage, then uploads through both.
        let second = try #require(try db.scalar("""
            INSERT INTO portals (user_id, name, slug, storage_account_id, created_at, updated_at)
            SELECT user_id, 'Second desk', 'second-desk', storage_account_id, created_at, updated_at FROM portals WHERE id = 1 RETURNING id
            """, as: Int64.self))
        let pdf = Array("%PDF-1.7\n".utf8) + Array(repeating: UInt8(ascii: "x"), count: 5_000)
        let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + Array(repeating: 1, count: 2_000)
        let zip: [UInt8] = [0x50, 0x4B, 0x03, 0x04] + Array(repeating: 2, count: 9_000)
        let uploads: [(portal: Int64, name: String, bytes: [UInt8], client: [(String, String)])] = [
            (1, "report.pdf", pdf, [("clientName", "Ada"), ("clientEmail", "Ada@Example.com")]),
            (1, "photo.png", png, [("clientName", "Ada"), ("clientEmail", "ada@example.com")]),
            (1, "notes.txt", Array("hello\n".utf8), [("clientName", "Bob")]),
            (second, "archive.zip", zip, [("clientName", "Carol")]),
        ]
        for u in uploads {
            let boundary = "----intake\(UInt32.random(in: 0...UInt32.max))"
            let sent = try HTTPClient.request(port: site.server.port, method: "POST", path: "/api/upload",
                                              headers: [("Cookie", "intake_csrf=\(site.token)"), ("X-CSRF-Token", site.token),
                                                        ("Content-Type", "multipart/form-data; boundary=\(boundary)")],
                                              body: DemoSite.multipart(boundary: boundary, fields: [("portalId", String(u.portal))] + u.client,
                                                                       files: [(u.name, u.bytes)]))
            #expect(sent.status == 200, "\(u.name): \(sent.text.prefix(300))")
        }
        // Local disk delivers at once; wait for the delivery to be recorded all the same.
        for _ in 0..<100 where try db.scalar("SELECT count(*) FROM file_uploads WHERE status = 'uploaded'", as: Int.self) != uploads.count {
            Thread.sleep(forTimeInterval: 0.1)
        }
        let total = uploads.reduce(0) { $0 + $1.bytes.count }
        let all = try json(try owner.get("/api/v1/analytics"))
        #expect(stored(all) == (4, total))
        let today = try #require((all["days"] as? [[String: Any]])?.last)
        #expect(today["uploads"] as? Int == 4 && today["bytes"] as? Int == total && today["failures"] as? Int == 0 && today["date"] as? String == all["to"] as? String)
        let clients = try #require(all["clients"] as? [[String: Any]])
        #expect(clients.map { $0["client"] as? String } == ["Carol", "ada@example.com", "Bob"])
        #expect(clients.first { $0["client"] as? String == "ada@example.com" }?["files"] as? Int == 2)
        let types = try #require(all["types"] as? [[String: Any]])
        #expect(types.map { $0["family"] as? String } == ["archives", "documents", "images"])
        #expect(types.first { $0["family"] as? String == "documents" }?["files"] as? Int == 2)

        for (query, expected) in [("portal_id=1", (3, pdf.count + png.count + 6)), ("portal_id=\(second)", (1, zip.count)),
                                  ("account_id=\(account)", (4, total))] {
            let body = try json(try owner.get("/api/v1/analytics?" + query))
            #expect(stored(body) == expected, "\(query)")
            #expect((body["scope"] as? [String: Any])?["id"] as? String == query.split(separator: "=").last.map(String.init))
        }

        // The page: the same numbers, the charts as SVG with their names, a table beside each.
        let page = try owner.get("/dashboard/analytics?scope=portal-\(second)")
        #expect(page.status == 200)
        let text = page.text
        #expect(text.contains(#"<dd class="stored-files">1</dd>"#) && text.contains(#"<option value="portal-\#(second)" selected>"#))
        #expect(text.contains(">Carol</th>") && !text.contains(">ada@example.com</th>"))
        for chart in ["chart-uploads", "chart-bytes", "chart-clients", "chart-types", "chart-failures"] {
            #expect(text.contains(#"id="\#(chart)""#) && text.contains(#"<title id="\#(chart)-title">"#), "\(chart)")
        }
        #expect(text.components(separatedBy: #"role="img" aria-label=""#).count - 1 == 5)
        #expect(text.components(separatedBy: "<table").count - 1 == 4)  // one beside each chart (the failures share one)
        let allPage = try owner.get("/dashboard/analytics")
        #expect(allPage.text.contains(#"<dd class="stored-files">4</dd>"#) && allPage.text.contains(">ada@example.com</th>"))

        // A failed delivery shows in the day's failures and the recent list.
        _ = try db.execute("UPDATE file_uploads SET status = 'failed', failure_reason = 'Storage refused the file' WHERE file_name = 'notes.txt'")
        let failed = try json(try owner.get("/api/v1/analytics?portal_id=1"))
        #expect(stored(failed) == (2, pdf.count + png.count))
        #expect((failed["days"] as? [[String: Any]])?.last?["failures"] as? Int == 1)
        #expect((failed["recentFailures"] as? [[String: Any]])?.map { $0["fileName"] as? String } == ["notes.txt"])
        #expect(try owner.get("/dashboard/analytics").text.contains("Storage refused the file"))

        // Another owner's portal and storage account: 404, exactly as ids that do not exist.
        let stranger = try #require(try db.scalar("""
            INSERT INTO users (email, email_normalized, name, password_hash, role, created_at, updated_at)
            VALUES ('s@example.com', 's@example.com', 'S', 'x', 'user', 0, 0) RETURNING id
            """, as: Int64.self))
        let theirAccount = try #require(try db.scalar("""
            INSERT INTO storage_accounts (user_id, provider, provider_account_id, display_name, created_at, updated_at)
            VALUES ($1, 'local', 'theirs', 'Theirs', 0, 0) RETURNING id
            """, [stranger], as: Int64.self))
        let theirPortal = try #require(try db.scalar("""
            INSERT INTO portals (user_id, name, slug, storage_account_id, created_at, updated_at) VALUES ($1, 'Theirs', 'theirs', $2, 0, 0) RETURNING id
            """, [stranger, theirAccount], as: Int64.self))
        let missing = try owner.get("/api/v1/analytics?portal_id=999999")
        for query in ["portal_id=\(theirPortal)", "account_id=\(theirAccount)", "portal_id=999999", "account_id=999999"] {
            let answer = try owner.get("/api/v1/analytics?" + query)
            #expect(answer.status == 404 && answer.text.contains(#""code":"not_found""#), "\(query): \(answer.status)")
            #expect(try owner.get("/dashboard/analytics?scope=" + query.replacingOccurrences(of: "_id=", with: "-")).status == 404, "\(query)")
        }
        #expect(try owner.get("/api/v1/analytics?portal_id=\(theirPortal)").text == missing.text)
        // Ids that are not ids, or both at once: 400 with a message.
        for query in ["portal_id=abc", "account_id=-1", "portal_id=1&account_id=\(account)"] {
            let answer = try owner.get("/api/v1/analytics?" + query)
            #expect(answer.status == 400 && answer.text.contains(#""code":"bad_request""#), "\(query): \(answer.status) \(answer.text.prefix(200))")
        }
        #expect(try owner.get("/dashboard/analytics?scope=everything").status == 400)

        // A script with a read token, no cookie.
        let token = try APITokenTests.createToken(owner, name: "analytics", scope: "read")
        let scripted = try APITokenTests.api(site.server.port, "/api/v1/analytics?portal_id=\(second)", token: token)
        #expect(scripted.status == 200)
        #expect(stored(try json(scripted)) == (1, zip.count))
        #expect(try APITokenTests.api(site.server.port, "/api/v1/analytics", token: nil).status == 401)
    }
}
