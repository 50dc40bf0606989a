import Database
import Foundation
import Sodium
import Synchronization
import Testing
import TestSupport

@Suite("Public portal uploads through nginx into local disk", .serialized, .enabled(if: integrationEnabled, "set INTAKE_INTEGRATION=1 (scripts/test does)"))
struct PortalUploadTests {
    func multipart(boundary: String, fields: [(String, String)], files: [(String, [UInt8])]) -> [UInt8] {
        DemoSite.multipart(boundary: boundary, fields: fields, files: files)
    }

    @Test("the demo portal takes a plain form post and a script upload; the bytes on disk match; without the token nothing is stored")
    func upload() throws {
        let server = try IntakeTestServer()
        defer { server.stop() }
        _ = try IntakeTestServer.run(IntakeTestServer.binary, ["demo-seed"], environment: server.environment)
        let visitor = server.session()
        let page = try visitor.get("/p/demo")
        #expect(page.status == 200 && page.text.contains("Demo uploads") && page.text.contains("enctype=\"multipart/form-data\""))
        let token = try #require(visitor.csrfToken)
        let cookie = ("Cookie", "intake_csrf=\(token)")
        let boundary = "----intake\(UInt32.random(in: 0...UInt32.max))"
        let type = ("Content-Type", "multipart/form-data; boundary=\(boundary)")
        let big = bigReport()

        // The plain form: the token is the first field.
        let form = try HTTPClient.request(port: server.port, method: "POST", path: "/p/demo/upload", headers: [cookie, type],
                                          body: multipart(boundary: boundary, fields: [("csrf_token", token), ("clientName", "Ada")],
                                                          files: [("big report.pdf", big)]))
        #expect(form.status == 200 && form.text.contains("your files arrived") && form.text.contains("big report.pdf"))
        let stored = try Data(contentsOf: URL(fileURLWithPath: server.home + "/storage/1/Intake/Demo uploads/big report.pdf"))
        #expect(stored == Data(big))

        // A script: the token as a header, the seed's JSON answer.
        let script = try HTTPClient.request(port: server.port, method: "POST", path: "/api/upload",
                                         headers: [cookie, type, ("X-CSRF-Token", token)],
                                         body: multipart(boundary: boundary, fields: [("portalId", "1"), ("clientName", "Bob")],
                                                         files: [("notes.txt", Array("hello\n".utf8))]))
        #expect(script.status == 200)
        #expect(script.text.hasPrefix(#"{"success":true,"uploadId":"2","fileName":"notes.txt","storageProvider":"local","files":["#))

        // No token: refused before any file is read, nothing stored.
        let forged = try HTTPClient.request(port: server.port, method: "POST", path: "/p/demo/upload", headers: [type],
                                            body: multipart(boundary: boundary, fields: [("csrf_token", "forged"), ("clientName", "Eve")],
                                                            files: [("evil.txt", Array("x".utf8))]))
        #expect(forged.status == 403)
        // Narrowed to documents, the demo portal refuses a program named .pdf (an open one would store it inertly).
        _ = try server.openDatabase().execute("UPDATE portals SET allowed_families = 'documents' WHERE id = 1")
        let refusedType = try HTTPClient.request(port: server.port, method: "POST", path: "/api/upload",
                                                 headers: [cookie, type, ("X-CSRF-Token", token)],
                                                 body: multipart(boundary: boundary, fields: [("portalId", "1"), ("clientName", "Mallory")],
                                                                 files: [("tool.pdf", [0x4D, 0x5A, 0x90, 0x00])]))
        #expect(refusedType.status == 400 && refusedType.text.contains(#""code":"file_type""#) && refusedType.text.contains("is really a Windows program"))
        let db = try server.openDatabase()
        #expect(try db.scalar("SELECT count(*) FROM file_uploads", as: Int.self) == 2)
        #expect(try db.scalar("SELECT storage_used_bytes FROM users WHERE email_normalized = 'owner@example.com'", as: Int64.self) == Int64(big.count + 6))
        #expect(try db.scalar("SELECT count(*) FROM upload_reservations", as: Int.self) == 0)
        #expect(try db.scalar("SELECT count(*) FROM mail_outbox", as: Int.self) == 2)
        #expect(server.spoolFiles.isEmpty, "\(server.spoolFiles)")
    }

    /// A PDF signature and 8 MiB of random bytes: more than one of nginx's and libfcgi's buffers.
    func bigReport() -> [UInt8] {
        var rng = SystemRandomNumberGenerator()
        return Array("%PDF-1.7\n".utf8) + (0..<(8 * 1024 * 1024)).map { _ in UInt8.random(in: 0...255, using: &rng) }
    }

    /// The demo site (owner signed in) after the uploads of `upload()`: "big report.pdf" sent as a
    /// form (upload 1, `big`) and "notes.txt" ("hello\n") as a script (upload 2), both delivered to
    /// local disk. The owner's tests below start here, each on a server of its own.
    func siteWithTwoUploads() throws -> (site: DemoSite, big: [UInt8]) {
        let site = try DemoSite()
        let big = bigReport()
        let boundary = "----intake\(UInt32.random(in: 0...UInt32.max))"
        let form = try HTTPClient.request(port: site.server.port, method: "POST", path: "/p/demo/upload",
                                          headers: [("Cookie", "intake_csrf=\(site.token)"), ("Content-Type", "multipart/form-data; boundary=\(boundary)")],
                                          body: multipart(boundary: boundary, fields: [("csrf_token", site.token), ("clientName", "Ada")],
                                                          files: [("big report.pdf", big)]))
        try #require(form.status == 200, "\(form.status) \(form.text)")
        try #require(try site.upload([("notes.txt", Array("hello\n".utf8))], fields: [("clientName", "Bob")]).status == 200)
        return (site, big)
    }

    @Test("the owner's files page lists the uploads and filters by status and storage; a download is served by nginx (X-Accel-Redirect) under its name, the internal location unreachable; another user's download is 404")
    func ownerFiles() throws {
        let (site, big) = try siteWithTwoUploads()
        let server = site.server, owner = site.owner
        defer { server.stop() }
        let list = try owner.get("/dashboard/files").text
        #expect(list.contains("big report.pdf") && list.contains("notes.txt") && list.contains("Demo uploads"))
        // Filters by status and storage: both delivered to the one local account.
        #expect(list.contains(#"<option value="delivering">Being delivered</option>"#) && list.contains(#"<option value="1">Local disk</option>"#))
        #expect(try owner.get("/dashboard/files?status=delivering").text.contains("No files match."))
        let delivered = try owner.get("/dashboard/files?status=uploaded&account=1").text
        #expect(delivered.contains("big report.pdf") && delivered.contains(#"<option value="uploaded" selected>Delivered</option>"#))
        #expect(try owner.get("/dashboard/files?account=99").text.contains("No files match."))
        let download = try owner.get("/api/uploads/1/download")
        #expect(download.status == 200 && download.body == big)
        #expect(download.headers["content-disposition"] == "attachment; filename=\"big report.pdf\"; filename*=UTF-8''big%20report.pdf")
        #expect(try HTTPClient.request(port: server.port, path: "/_files/1/Intake/Demo%20uploads/notes.txt").status == 404, "the internal location is not reachable")

        try server.createUser(email: "someone@example.com")
        let stranger = server.session()
        try stranger.get("/login")
        try stranger.post("/login", form: [("email", "someone@example.com"), ("password", "correct horse battery")])
        #expect(try stranger.get("/api/uploads/1/download").status == 404)
    }

    @Test("a delivery that gave up is shown with its reason and Retry delivery; retried, it arrives; only a failed delivery is retried")
    func retryDelivery() throws {
        let (site, big) = try siteWithTwoUploads()
        let server = site.server, owner = site.owner, db = site.db
        defer { server.stop() }
        let placed = server.home + "/storage/1/Intake/Demo uploads/big report.pdf"
        let kept = server.home + "/spool/kept.data"
        try FileManager.default.moveItem(atPath: placed, toPath: kept)
        try db.execute("UPDATE file_uploads SET status = 'failed', failure_reason = 'Drive answered 503', spool_path = $1, provider_file_id = NULL WHERE id = 1",
                       [kept])
        let failed = try owner.get("/dashboard/files").text
        #expect(failed.contains("Delivery failed") && failed.contains("Drive answered 503") && failed.contains("/dashboard/files/1/retry"))
        #expect(try owner.post("/dashboard/files/1/retry", form: [("return_to", "/dashboard/files?status=failed")]).headers["location"]
                == "/dashboard/files?status=failed")
        for _ in 0..<50 where try db.scalar("SELECT status FROM file_uploads WHERE id = 1", as: String.self) != "uploaded" { usleep(100_000) }
        #expect(try db.scalar("SELECT status FROM file_uploads WHERE id = 1", as: String.self) == "uploaded")
        #expect(try Data(contentsOf: URL(fileURLWithPath: placed)) == Data(big) && !FileManager.default.fileExists(atPath: kept))
        let again = try owner.post("/dashboard/files/1/retry", form: [])
        let flashed = try owner.get("/dashboard/files").text
        #expect(again.status == 303 && flashed.contains("cannot be delivered again"), "only a failed delivery is retried")
    }

    @Test("the files list pages by cursor on the page and in the API, filters by name and client through the indexes, refuses a cursor it did not give, bounds the page size; the storage page counts the files")
    func pagingAndFilters() throws {
        let (site, _) = try siteWithTwoUploads()
        let server = site.server, owner = site.owner
        defer { server.stop() }
        let first = try owner.get("/api/v1/uploads?limit=1").text
        #expect(first.hasPrefix(#"{"uploads":[{"id":"2","fileName":"notes.txt""#), "\(first)")
        let cursor = try #require(first.range(of: #""nextCursor":""#).map { String(first[$0.upperBound...].prefix { $0 != "\"" }) })
        #expect(FileStoreCursorShape.matches(cursor), "\(cursor)")
        let second = try owner.get("/api/v1/uploads?limit=1&cursor=\(cursor)").text
        #expect(second.hasPrefix(#"{"uploads":[{"id":"1","fileName":"big report.pdf""#) && second.hasSuffix(#""nextCursor":null}"#), "\(second)")
        let bad = try owner.get("/api/v1/uploads?cursor=2")
        #expect(bad.status == 400 && bad.text.contains("cursor"), "\(bad.status) \(bad.text)")
        #expect(try owner.get("/dashboard/files?before=zz").status == 400)
        let unbounded = try owner.get("/api/v1/uploads?limit=-1").text
        #expect(unbounded.components(separatedBy: #""fileName""#).count == 2, "a page is at least one file and at most 200: \(unbounded)")
        // The page's next link carries the cursor and the filters.
        let page = try owner.get("/dashboard/files").text
        #expect(page.contains("big report.pdf") && page.contains("notes.txt"))
        #expect(try owner.get("/dashboard/files?q=REPORT").text.contains("big report.pdf"))
        #expect(!(try owner.get("/dashboard/files?q=REPORT").text.contains("notes.txt")))
        #expect(try owner.get("/dashboard/files?q=%22%20OR%20x").text.contains("No files match."))
        let byClient = try owner.get("/dashboard/files?client=bo").text
        #expect(byClient.contains("notes.txt") && !byClient.contains("big report.pdf"))
        let settings = try owner.get("/dashboard/settings").text
        #expect(settings.contains(#"<a href="/dashboard/files?account=1">2 files, "#), "the account's delivered files")
    }

    @Test("the owner deletes an upload through the API: gone from disk and from the usage; the API lists what is left")
    func delete() throws {
        let (site, big) = try siteWithTwoUploads()
        let server = site.server, owner = site.owner, db = site.db
        defer { server.stop() }
        try owner.get("/dashboard/files")
        let deleted = try HTTPClient.request(port: server.port, method: "DELETE", path: "/api/uploads/2",
                                             headers: [("Cookie", "intake_session=\(owner.cookies["intake_session"]!)"), ("X-CSRF-Token", owner.csrfToken!)])
        #expect(deleted.text == #"{"success":true,"message":"File deleted successfully","deletedFromCloud":true,"deletedFromDatabase":true}"#)
        #expect(!FileManager.default.fileExists(atPath: server.home + "/storage/1/Intake/Demo uploads/notes.txt"))
        #expect(try db.scalar("SELECT storage_used_bytes FROM users WHERE email_normalized = 'owner@example.com'", as: Int64.self) == Int64(big.count))
        let api = try owner.get("/api/v1/uploads")
        #expect(api.text.hasPrefix(#"{"uploads":[{"id":"1","fileName":"big report.pdf""#) && api.text.hasSuffix(#""nextCursor":null}"#))
    }
}

@Suite("Portal management through nginx", .serialized, .enabled(if: integrationEnabled, "set INTAKE_INTEGRATION=1 (scripts/test does)"))
struct PortalManagementTests {
    @Test("create on the page (errors kept beside fields), list with status, the JSON API, switch off, delete")
    func manage() throws {
        let server = try IntakeTestServer()
        defer { server.stop() }
        _ = try IntakeTestServer.run(IntakeTestServer.binary, ["demo-seed"], environment: server.environment)
        let credentials = try String(contentsOfFile: server.home + "/demo-credentials.txt", encoding: .utf8)
        let password = try #require(credentials.split(separator: "\n").first { $0.hasPrefix("user") }?.split(separator: " ").last)
        let owner = server.session()
        try owner.get("/login")
        try owner.post("/login", form: [("email", "owner@example.com"), ("password", String(password))])
        let page = try owner.get("/dashboard/portals")
        #expect(page.text.contains("/p/demo") && page.text.contains("Accepting uploads"))

        let bad = try owner.post("/dashboard/portals", form: [("name", "Invoices"), ("slug", "admin"), ("storage_account_id", "1"), ("max_files", "20")])
        #expect(bad.status == 422 && bad.text.contains("“admin” is reserved") && bad.text.contains("value=\"Invoices\""))
        let made = try owner.post("/dashboard/portals", form: [("name", "Invoices"), ("slug", "invoices-2026"), ("storage_account_id", "1"),
                                                               ("max_files", "5"), ("allowed_types", "pdf, .png"), ("message_field", "1")])
        #expect(made.status == 303)
        #expect(try owner.get("/p/invoices-2026").text.contains("Accepted: .pdf, .png files."))

        let list = try owner.get("/api/portals", headers: [("Accept", "application/json")])
        #expect(list.text.contains(#""slug":"invoices-2026""#) && list.text.contains(#""allowedTypes":["pdf","png"]"#) && list.text.contains(#""uploadCount":0"#))
        try owner.get("/dashboard/portals")
        let put = try owner.postJSON("/api/portals/2", #"{"slug":"invoices","maxFiles":3}"#)
        #expect(put.status == 405, "updates are PUT")
        let renamed = try HTTPClient.request(port: server.port, method: "PUT", path: "/api/portals/2",
                                             headers: [("Cookie", "intake_session=\(owner.cookies["intake_session"]!)"), ("X-CSRF-Token", owner.csrfToken!),
                                                       ("Content-Type", "application/json")], body: Array(#"{"slug":"invoices","maxFiles":3}"#.utf8))
        #expect(renamed.status == 200 && renamed.text.contains(#""slug":"invoices""#) && renamed.text.contains(#""maxFiles":3"#))

        try owner.post("/dashboard/portals/2/toggle", form: [])
        #expect(try owner.get("/p/invoices").text.contains("This portal cannot accept uploads right now."))
        try owner.get("/dashboard/portals")
        #expect(try owner.post("/dashboard/portals/2/delete", form: []).status == 303)
        #expect(try owner.get("/p/invoices").status == 404)

        try server.createUser(email: "other@example.com")
        let other = server.session()
        try other.get("/login")
        try other.post("/login", form: [("email", "other@example.com"), ("password", "correct horse battery")])
        #expect(try other.get("/api/portals/1").status == 404, "another owner's portal is not found")
    }
}

@Suite("Upload notifications through the outbox", .serialized, .enabled(if: integrationEnabled, "set INTAKE_INTEGRATION=1 (scripts/test does)"))
struct UploadMailTests {
    @Test("with the SMTP sink down the upload still succeeds; the mail goes out once the sink is back")
    func mailLater() throws {
        let smtpPort = FreePort.find()
        let server = try IntakeTestServer(extraEnvironment: ["INTAKE_SMTP_URL": "smtp://127.0.0.1:\(smtpPort)", "INTAKE_JOBS_INTERVAL": "1",
                                                             "INTAKE_MAIL_FROM": "Intake <intake@example.com>"])
        defer { server.stop() }
        _ = try IntakeTestServer.run(IntakeTestServer.binary, ["demo-seed"], environment: server.environment)
        let visitor = server.session()
        try visitor.get("/p/demo")
        let token = try #require(visitor.csrfToken)
        let boundary = "----mail\(UInt32.random(in: 0...UInt32.max))"
        func upload(_ name: String) throws -> HTTPResult {
            let body = PortalUploadTests().multipart(boundary: boundary, fields: [("portalId", "1"), ("clientName", "Ada")],
                                                     files: [(name, Array("hello\n".utf8))])
            return try HTTPClient.request(port: server.port, method: "POST", path: "/api/upload",
                                          headers: [("Cookie", "intake_csrf=\(token)"), ("Content-Type", "multipart/form-data; boundary=\(boundary)"),
                                                    ("X-CSRF-Token", token)], body: body)
        }
        #expect(try upload("hello.txt").status == 200, "a mail server that is down never fails an upload")
        let db = try server.openDatabase()
        var attempts = 0
        for _ in 0..<50 where attempts == 0 {
            usleep(100_000)
            attempts = try db.scalar("SELECT attempts FROM mail_outbox", as: Int.self) ?? 0
        }
        let sentAt = try db.scalar("SELECT sent_at FROM mail_outbox", as: Int64?.self) ?? nil
        #expect(attempts >= 1 && sentAt == nil)

        let sink = try SMTPSink(port: smtpPort)
        defer { sink.stop() }
        for _ in 0..<150 where sink.messages.isEmpty { usleep(100_000) }
        let message = try #require(sink.messages.first)
        #expect(message.to == ["owner@example.com"] && message.from == "intake@example.com")
        #expect(message.data.contains("Subject: New upload to Demo uploads: hello.txt") && message.data.contains("from Ada"))

        // Sent once, checked against what the sink recorded rather than after a pause: a second
        // upload queues a marker mail behind hello.txt's. The outbox sends what is due in id order,
        // so by the time the marker has arrived, any pass that would send hello.txt again has sent
        // it first; and once sent, hello.txt's row is no longer due.
        #expect(try upload("marker.txt").status == 200)
        let subjects = { sink.messages.compactMap { $0.data.split(separator: "\n").first { $0.hasPrefix("Subject: ") }.map { String($0.dropFirst(9)) } } }
        for _ in 0..<150 where !subjects().contains(where: { $0.hasSuffix("marker.txt") }) { usleep(100_000) }
        #expect(subjects() == ["New upload to Demo uploads: hello.txt", "New upload to Demo uploads: marker.txt"], "sent once, then the marker")
        #expect(try db.scalar("SELECT count(*) FROM mail_outbox WHERE subject LIKE '%hello.txt' AND sent_at IS NOT NULL", as: Int.self) == 1)
    }
}

@Suite("Quota race through nginx", .serialized, .enabled(if: integrationEnabled, "set INTAKE_INTEGRATION=1 (scripts/test does)"))
struct QuotaRaceTests {
    /// 100 kB files come in requests read whole before their quota is taken (each file is
    /// checked against the room left as it is recorded); 1.1 MB ones in requests that reserve
    /// their length first (`UploadPipeline.unreservedRequestBytes`). Both ways must hold.
    @Test("20 parallel uploads that together exceed the quota: the accepted ones fit, the rest are refused, usage is their sum",
          arguments: [100_000, 1_100_000])
    func race(fileBytes: Int) throws {
        let server = try IntakeTestServer(workers: 2, threads: 8)
        defer { server.stop() }
        _ = try IntakeTestServer.run(IntakeTestServer.binary, ["demo-seed"], environment: server.environment)
        let db = try server.openDatabase()
        let quota = Int64(fileBytes) * 10
        try db.execute("UPDATE users SET quota_override_bytes = $1 WHERE email_normalized = 'owner@example.com'", [quota])
        let visitor = server.session()
        try visitor.get("/p/demo")
        let token = try #require(visitor.csrfToken)
        let statuses = Mutex<[Int]>([])
        DispatchQueue.concurrentPerform(iterations: 20) { i in
            let boundary = "----race\(i)"
            let body = PortalUploadTests().multipart(boundary: boundary, fields: [("portalId", "1"), ("clientName", "Client \(i)")],
                                                     files: [("part\(i).txt", Array(repeating: UInt8(ascii: "a"), count: fileBytes))])
            let r = try? HTTPClient.request(port: server.port, method: "POST", path: "/api/upload",
                                            headers: [("Cookie", "intake_csrf=\(token)"), ("Content-Type", "multipart/form-data; boundary=\(boundary)"),
                                                      ("X-CSRF-Token", token)], body: body)
            statuses.withLock { $0.append(r?.status ?? -1) }
        }
        let all = statuses.withLock { $0 }
        let accepted = all.filter { $0 == 200 }.count
        #expect(accepted >= 1 && accepted < 20 && all.allSatisfy { $0 == 200 || $0 == 413 }, "\(all)")
        let used = try db.scalar("SELECT storage_used_bytes FROM users WHERE email_normalized = 'owner@example.com'", as: Int64.self) ?? -1
        #expect(used == Int64(accepted) * Int64(fileBytes) && used <= quota)
        #expect(try db.scalar("SELECT coalesce(sum(size_bytes), 0) FROM file_uploads", as: Int64.self) == used)
        #expect(try db.scalar("SELECT count(*) FROM upload_reservations", as: Int.self) == 0)
        // What was accepted is what was sent: every stored file holds its 'a's and nothing else.
        for row in try db.query("SELECT size_bytes, sha256 FROM file_uploads") {
            #expect(try row.get("size_bytes", as: Int64.self) == Int64(fileBytes))
            #expect(try row.get("sha256", as: String.self) == Sodium.hex(Digest.sha256(Array(repeating: UInt8(ascii: "a"), count: fileBytes))))
        }
    }
}

/// A files-list cursor as the API writes it: `<created_at>.<id>`.
enum FileStoreCursorShape {
    static func matches(_ text: String) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 2 && parts.allSatisfy { !$0.isEmpty && $0.allSatisfy(\.isNumber) }
    }
}
