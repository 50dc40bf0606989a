import Foundation
import Synchronization
import Testing
import TestSupport

/// Issue 19: several accounts of one provider, chosen per portal, and automatic failover to a
/// portal's backup account — through nginx and the real binary, with fake Google, Drive, Dropbox.
@Suite("Several storage accounts per provider and automatic failover", .serialized,
       .enabled(if: integrationEnabled, "set INTAKE_INTEGRATION=1 (scripts/test does)"))
struct SeveralAccountsTests {
    let password = "correct horse battery"

    /// Google (fake OAuth + fake Drive that records which Google account stored each file) and,
    /// when asked, Dropbox; the server's own jobs quiet so only the test moves account states.
    struct Providers {
        let google: FakeOAuthServer
        let drive: FakeDriveServer
        let dropboxOAuth: FakeOAuthServer
        let dropbox: FakeDropboxServer

        init() throws {
            let google = try FakeOAuthServer(kind: .google)
            google.setAccessTokenLifetime(60)
            self.google = google
            drive = try FakeDriveServer(authorize: { google.isValidAccessToken($0) }, accountOf: { google.accountOfAccessToken($0) })
            let dropboxOAuth = try FakeOAuthServer(kind: .dropbox, account: .init(id: "dbid:box-1", email: "owner@box.example", name: "Olive Box"))
            self.dropboxOAuth = dropboxOAuth
            dropbox = try FakeDropboxServer(identity: dropboxOAuth, authorize: { dropboxOAuth.isValidAccessToken($0) })
        }

        var environment: [String: String] {
            StorageConnectTests.environment(google)
                .merging(StorageConnectTests.environment(dropboxOAuth)) { a, _ in a }
                .merging(["INTAKE_GOOGLE_API_URL": drive.apiURL, "INTAKE_GOOGLE_UPLOAD_URL": drive.uploadURL,
                          "INTAKE_DROPBOX_API_URL": dropbox.url, "INTAKE_DROPBOX_CONTENT_URL": dropbox.url]) { _, fake in fake }
                .merging(BillingJobsTests.quietJobs) { a, _ in a }
        }

        func stop() {
            google.stop()
            drive.stop()
            dropboxOAuth.stop()
            dropbox.stop()
        }
    }

    func signedIn(_ server: IntakeTestServer) throws -> WebSession {
        try server.createUser(email: "owner@example.com", name: "Olive")
        let browser = server.session()
        try browser.get("/login")
        try browser.post("/login", form: [("email", "owner@example.com"), ("password", password)])
        return browser
    }

    /// Through the connect button, the provider's consent and the callback.
    func connect(_ browser: WebSession, _ fake: FakeOAuthServer) throws {
        let callback = try StorageConnectTests().consent(browser, fake)
        #expect(try browser.get(callback).status == 303)
    }

    /// A client uploads `bytes` as `name` to portal `portalID` (`slug`): the answer.
    func upload(_ server: IntakeTestServer, slug: String, portalID: Int64, _ name: String, _ bytes: [UInt8]) throws -> HTTPResult {
        let client = server.session()
        #expect(try client.get("/p/\(slug)").status == 200)
        let token = try #require(client.csrfToken)
        let boundary = "----intake\(UInt32.random(in: 0...UInt32.max))"
        return try HTTPClient.request(port: server.port, method: "POST", path: "/api/upload",
                                      headers: [("Cookie", "intake_csrf=\(token)"), ("Content-Type", "multipart/form-data; boundary=\(boundary)"),
                                                ("X-CSRF-Token", token)],
                                      body: PortalUploadTests().multipart(boundary: boundary, fields: [("portalId", String(portalID)), ("clientName", "Ada")],
                                                                          files: [(name, bytes)]))
    }

    func uploadID(_ answer: HTTPResult) throws -> Int64 {
        let object = try #require(try JSONSerialization.jsonObject(with: Data(answer.body)) as? [String: Any])
        return try #require((object["uploadId"] as? String).flatMap { Int64($0) })
    }

    func randomBytes(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8.random(in: 0...255) } }

    @Test("two Google accounts of one owner: Google is asked to let the owner choose; settings list both; a portal on each stores into its own account; the provider form is ambiguous and names both; disconnecting one switches off only its portals")
    func twoGoogleAccounts() throws {
        let providers = try Providers()
        let server = try IntakeTestServer(extraEnvironment: providers.environment)
        defer { server.stop(); providers.stop() }
        let browser = try signedIn(server)
        try connect(browser, providers.google)
        #expect(try browser.get("/dashboard/settings").text.contains(">Connect another Google Drive account</button>"))
        // The owner picks another Google account in Google's chooser.
        providers.google.setNextAccount(.init(id: "acct-2", email: "second@example.com", name: "Second Drive"))
        try connect(browser, providers.google)
        let db = try server.openDatabase()
        #expect(try db.query("SELECT provider, email, status FROM storage_accounts ORDER BY id").map {
            [try $0.get("provider", as: String.self), try $0.get("email", as: String.self), try $0.get("status", as: String.self)]
        } == [["google_drive", "owner@example.com", "ACTIVE"], ["google_drive", "second@example.com", "ACTIVE"]])
        let settings = try browser.get("/dashboard/settings").text
        #expect(settings.contains("owner@example.com") && settings.contains("second@example.com"))

        // Naming only the provider is ambiguous now: the answer names both accounts.
        let ambiguous = try browser.postJSON("/api/portals", #"{"name":"A","slug":"a","storageProvider":"google_drive"}"#)
        #expect(ambiguous.status == 422 && ambiguous.text.contains("You have 2 active google_drive accounts; send storageAccountId: 1 (owner@example.com), 2 (second@example.com)."),
                "\(ambiguous.status) \(ambiguous.text)")
        for (slug, account) in [("alpha", 1), ("bravo", 2)] {
            let created = try browser.postJSON("/api/portals", #"{"name":"\#(slug)","slug":"\#(slug)","storageAccountId":"\#(account)"}"#)
            #expect(created.status == 201, "\(created.status) \(created.text)")
        }
        // The API sets, refuses and removes a portal's backup.
        try browser.get("/dashboard/portals")
        let backed = try PortalClientTests().put(browser, server, #"{"backupStorageAccountId":"2"}"#)
        #expect(backed.status == 200 && backed.text.contains(#""storageAccountId":"1","backupStorageAccountId":"2""#), "\(backed.status) \(backed.text)")
        let same = try PortalClientTests().put(browser, server, #"{"backupStorageAccountId":1}"#)
        #expect(same.status == 422 && same.text.contains(#""backupStorageAccountId":"The backup must be another account than the one files go to.""#),
                "\(same.status) \(same.text)")
        let removed = try PortalClientTests().put(browser, server, #"{"backupStorageAccountId":null}"#)
        #expect(removed.status == 200 && removed.text.contains(#""backupStorageAccountId":null"#))

        let pause = try browser.postJSON("/api/storage/deactivate", #"{"provider":"google_drive"}"#)
        #expect(pause.status == 409 && pause.text.contains(#""code":"ambiguous""#), "\(pause.status) \(pause.text)")
        #expect(pause.text.contains(#""candidates":[{"storageAccountId":"1","provider":"google_drive","email":"owner@example.com","#)
                && pause.text.contains(#"{"storageAccountId":"2","provider":"google_drive","email":"second@example.com","#))
        let refresh = try browser.postJSON("/api/storage/refresh-token", #"{"provider":"google"}"#)
        #expect(refresh.status == 409 && refresh.text.contains(#""candidates""#))
        #expect(try browser.postJSON("/api/storage/refresh-token", #"{"storageAccountId":"2"}"#).status == 200)

        // Each portal's files land in its own Google account.
        let a = randomBytes(40_000), b = randomBytes(50_000)
        let sentA = try upload(server, slug: "alpha", portalID: 1, "a.bin", a)
        let sentB = try upload(server, slug: "bravo", portalID: 2, "b.bin", b)
        #expect(sentA.status == 200 && sentB.status == 200, "\(sentA.text) \(sentB.text)")
        let stored = providers.drive.items.filter { $0.name.hasSuffix(".bin") }
        #expect(stored.first { $0.name == "a.bin" }.map { $0.owner == "acct-1" && $0.bytes == a } == true)
        #expect(stored.first { $0.name == "b.bin" }.map { $0.owner == "acct-2" && $0.bytes == b } == true)
        #expect(try db.query("SELECT file_name, storage_account_id FROM file_uploads ORDER BY id").map {
            "\(try $0.get("file_name", as: String.self))@\(try $0.get("storage_account_id", as: Int64.self))"
        } == ["a.bin@1", "b.bin@2"])
        let counted = try browser.get("/dashboard/settings").text
        #expect(counted.contains("1 file, 40 KB") && counted.contains("1 file, 50 KB"), "each account's files and bytes")

        // Disconnecting the second account switches off its portal only.
        try browser.get("/dashboard/settings")
        #expect(try browser.post("/dashboard/settings/accounts/2/deactivate", form: [("action", "disconnect")]).status == 303)
        #expect(try db.query("SELECT slug, active FROM portals ORDER BY id").map { "\(try $0.get("slug", as: String.self))=\(try $0.get("active", as: Int.self))" }
                == ["alpha=1", "bravo=0"])
        #expect(try upload(server, slug: "alpha", portalID: 1, "a2.bin", randomBytes(1000)).status == 200)
        #expect(try server.session().get("/p/bravo").text.contains("This portal cannot accept uploads right now."))
        #expect(try db.scalar("SELECT status FROM storage_accounts WHERE id = 1", as: String.self) == "ACTIVE")
    }

    @Test("failover: while the portal's Google account is in ERROR its new files go to the backup Dropbox, the owner is mailed once, the client sees no difference; when Google answers again new files return to it; every file stays bound where it landed, byte for byte")
    func failover() throws {
        let providers = try Providers()
        let server = try IntakeTestServer(extraEnvironment: providers.environment)
        defer { server.stop(); providers.stop() }
        let browser = try signedIn(server)
        try connect(browser, providers.google)
        try connect(browser, providers.dropboxOAuth)
        let db = try server.openDatabase()
        #expect(try db.query("SELECT provider FROM storage_accounts ORDER BY id").map { try $0.get("provider", as: String.self) } == ["google_drive", "dropbox"])

        // The portal form offers both accounts, and the backup choice.
        let form = try browser.get("/dashboard/portals").text
        #expect(form.contains(#"<select id="backup_storage_account_id" name="backup_storage_account_id""#))
        #expect(form.contains("Dropbox (owner@box.example)</option>") && form.contains("Google Drive (owner@example.com)</option>"))
        let created = try browser.post("/dashboard/portals", form: [("name", "Tax"), ("slug", "tax"), ("storage_account_id", "1"),
                                                                     ("backup_storage_account_id", "2"), ("max_files", "20"),
                                                                     ("client_name_mode", "optional"), ("client_email_mode", "optional")])
        #expect(created.status == 303, "\(created.status) \(created.text)")
        #expect(try db.scalar("SELECT backup_storage_account_id FROM portals WHERE slug = 'tax'", as: Int64.self) == 2)
        let portalID = try #require(try db.scalar("SELECT id FROM portals WHERE slug = 'tax'", as: Int64.self))

        var sent: [(id: Int64, bytes: [UInt8], account: Int64)] = []
        func send(_ name: String, to account: Int64) throws {
            let bytes = randomBytes(Int.random(in: 10_000...300_000))
            let answer = try upload(server, slug: "tax", portalID: portalID, name, bytes)
            #expect(answer.status == 200 && answer.text.contains(#""storageProvider":"google_drive""#), "\(answer.status) \(answer.text)")
            sent.append((try uploadID(answer), bytes, account))
        }
        try send("before.bin", to: 1)

        // Google's token endpoint answers 503: the owner's Sync finds the account in ERROR.
        providers.google.failNextTokenCalls(Array(repeating: .status(503, retryAfter: 0), count: 1000))
        providers.google.expireAccessTokens()
        try browser.get("/dashboard/settings")
        #expect(try browser.post("/dashboard/settings/sync", form: []).status == 303)
        #expect(try db.scalar("SELECT status FROM storage_accounts WHERE id = 1", as: String.self) == "ERROR")
        #expect(try db.scalar("SELECT active FROM portals WHERE slug = 'tax'", as: Int.self) == 1, "a portal with a backup stays on")
        let page = try server.session().get("/p/tax").text
        #expect(page.contains("<form") && !page.contains("Dropbox") && !page.contains("backup"), "the client page shows nothing of it")
        let owner = try browser.get("/dashboard/portals/\(portalID)").text
        #expect(owner.contains("new files go to the backup account #2"))
        #expect(try browser.get("/dashboard/settings").text.contains("Portals with a backup account send new files to it meanwhile."))

        // Concurrent clients while failing over: all to Dropbox.
        let during = (0..<8).map { ("during-\($0).bin", randomBytes(Int.random(in: 10_000...200_000))) }
        let results = Mutex<[Int: HTTPResult]>([:])
        onThreads(during.count) { i in
            if let answer = try? upload(server, slug: "tax", portalID: portalID, during[i].0, during[i].1) { results.withLock { $0[i] = answer } }
        }
        for i in during.indices {
            let answer = try #require(results.withLock { $0[i] }, "upload \(i) answered")
            #expect(answer.status == 200 && answer.text.contains(#""storageProvider":"google_drive""#), "\(answer.status) \(answer.text)")
            sent.append((try uploadID(answer), during[i].1, 2))
        }
        #expect(try browser.post("/dashboard/settings/sync", form: []).status == 303)
        #expect(try db.scalar("SELECT status FROM storage_accounts WHERE id = 1", as: String.self) == "ERROR")
        let mails = try db.query("SELECT to_address, subject, body FROM mail_outbox WHERE subject LIKE '%backup storage%'")
        #expect(mails.count == 1, "told once per incident, not per upload or per check")
        #expect(try mails.first?.get("body", as: String.self).contains("- Tax (/p/tax): new files go to Dropbox (owner@box.example)") == true)

        // Google answers again: Check again brings the account back, and new files go to it.
        providers.google.failNextTokenCalls([])
        #expect(try browser.post("/dashboard/settings/accounts/1/reactivate", form: []).status == 303)
        #expect(try db.scalar("SELECT status FROM storage_accounts WHERE id = 1", as: String.self) == "ACTIVE")
        try send("after.bin", to: 1)

        // Every file bound where it landed, its bytes there and downloadable by the owner.
        for file in sent {
            #expect(try db.scalar("SELECT storage_account_id FROM file_uploads WHERE id = $1", [file.id], as: Int64.self) == file.account)
            let name = try #require(try db.scalar("SELECT file_name FROM file_uploads WHERE id = $1", [file.id], as: String.self))
            if file.account == 1 {
                #expect(providers.drive.items.first { $0.name == name }?.bytes == file.bytes, "\(name) in Drive")
            } else {
                #expect(providers.dropbox.files.first { $0.path.hasSuffix("/" + name) }?.bytes == file.bytes, "\(name) in Dropbox")
            }
            let download = try browser.get("/api/uploads/\(file.id)/download")
            #expect(download.status == 200 && download.body == file.bytes, "\(name): \(download.status) \(download.text.prefix(300))")
        }
        #expect(providers.dropbox.files.count == 8 && providers.drive.items.filter { $0.name.hasSuffix(".bin") }.count == 2)
        #expect(try db.scalar("SELECT count(*) FROM mail_outbox WHERE subject LIKE '%backup storage%'", as: Int.self) == 1)
    }
}
