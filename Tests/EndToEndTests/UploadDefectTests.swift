import Checksums
import Database
import Foundation
import Sodium
import Synchronization
import Testing
import TestSupport

/// The demo site (`intake demo-seed`) behind nginx: the demo portal `/p/demo` (id 1) on local disk,
/// a visitor's CSRF token, and the owner signed in.
struct DemoSite: @unchecked Sendable {  // its sessions are used from one thread; concurrent tests only call `upload`, which shares nothing
    let server: IntakeTestServer
    let token: String
    let owner: WebSession
    let db: any Database

    init(workers: Int = 2, threads: Int = 4, extraEnvironment: [String: String] = [:]) throws {
        server = try IntakeTestServer(workers: workers, threads: threads, extraEnvironment: extraEnvironment)
        _ = try IntakeTestServer.run(IntakeTestServer.binary, ["demo-seed"], environment: server.environment)
        let visitor = server.session()
        _ = try visitor.get("/p/demo")
        token = try #require(visitor.csrfToken)
        let credentials = try String(contentsOfFile: server.home + "/demo-credentials.txt", encoding: .utf8)
        let password = try #require(credentials.split(separator: "\n").first { $0.hasPrefix("user") }?.split(separator: " ").last)
        owner = server.session()
        _ = try owner.get("/login")
        _ = try owner.post("/login", form: [("email", "owner@example.com"), ("password", String(password))])
        _ = try owner.get("/dashboard")  // the signed-in session's CSRF token
        db = try server.openDatabase()
    }

    static func multipart(boundary: String, fields: [(String, String)], files: [(String, [UInt8])]) -> [UInt8] {
        var body: [UInt8] = []
        for (name, value) in fields {
            body += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n".utf8)
        }
        for (name, bytes) in files {
            body += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\(name)\"\r\nContent-Type: application/octet-stream\r\n\r\n".utf8)
            body += bytes + Array("\r\n".utf8)
        }
        return body + Array("--\(boundary)--\r\n".utf8)
    }

    /// `POST /api/upload` of `files` to the demo portal as a script (token in the header).
    func upload(_ files: [(String, [UInt8])], fields: [(String, String)] = [("clientName", "Ada")]) throws -> HTTPResult {
        let boundary = "----intake\(UInt32.random(in: 0...UInt32.max))"
        return try HTTPClient.request(port: server.port, method: "POST", path: "/api/upload",
                                      headers: [("Cookie", "intake_csrf=\(token)"), ("Content-Type", "multipart/form-data; boundary=\(boundary)"),
                                                ("X-CSRF-Token", token)],
                                      body: Self.multipart(boundary: boundary, fields: [("portalId", "1")] + fields, files: files))
    }

    /// The first value of `"key":"…"` in a JSON text.
    static func string(_ key: String, in json: String) -> String? {
        json.range(of: "\"\(key)\":\"").map { String(json[$0.upperBound...].prefix { $0 != "\"" }) }
    }
}

@Suite("Defects found by users: lost uploads, receipt leaks, hanging and hostile uploads", .serialized,
       .enabled(if: integrationEnabled, "set INTAKE_INTEGRATION=1 (scripts/test does)"))
struct UploadDefectTests {
    /// Where local-disk storage lives: beside the spool (files are hard-linked into place), or on
    /// another file system (tmpfs: files are copied, flushed, then linked — a much wider window).
    enum StoragePlacement: String, CaseIterable, Sendable { case beside, otherFileSystem }

    @Test("32 clients uploading same.pdf at once through nginx: every row has a file of its own holding exactly what its client sent",
          arguments: StoragePlacement.allCases)
    func concurrentSameName(_ placement: StoragePlacement) throws {
        var storage: String?
        if placement == .otherFileSystem {
            var template = Array("/dev/shm/intake-storage-XXXXXX".utf8CString)
            storage = try #require(mkdtemp(&template).map { String(cString: $0) })
        }
        defer { if let storage { try? FileManager.default.removeItem(atPath: storage) } }
        let site = try DemoSite(workers: 4, threads: 8, extraEnvironment: storage.map { ["INTAKE_STORAGE_DIR": $0] } ?? [:])
        defer { site.server.stop() }
        let storageRoot = (storage ?? site.server.home + "/storage") + "/1/"
        let sent = Mutex<[(id: String, sha256: String)]>([])
        let failures = Mutex<[String]>([])
        // 32 threads of their own (concurrentPerform would run only as many as there are cores).
        onThreads(32) { client in
            var rng = SystemRandomNumberGenerator()
            for round in 0..<5 {
                let bytes = Array("%PDF-1.7\n% client \(client) round \(round)\n".utf8) + (0..<(48 * 1024 + client * 512)).map { _ in UInt8.random(in: 0...255, using: &rng) }
                do {
                    let answer = try site.upload([("same.pdf", bytes)])
                    guard answer.status == 200, let id = DemoSite.string("uploadId", in: answer.text) else {
                        failures.withLock { $0.append("\(answer.status) \(answer.text.prefix(200))") }
                        continue
                    }
                    sent.withLock { $0.append((id, Sodium.hex(StreamingDigest.digest(.sha256, bytes)))) }
                } catch { failures.withLock { $0.append("\(error)") } }
            }
        }
        #expect(failures.withLock { $0 }.isEmpty, "\(failures.withLock { $0 }.prefix(3))")
        let answers = sent.withLock { $0 }
        #expect(answers.count == 160)
        let rows = try site.db.query("SELECT id, provider_file_id, sha256, status FROM file_uploads ORDER BY id")
        #expect(rows.count == 160)
        var paths = Set<String>()
        for row in rows {
            let id: Int64 = try row.get("id")
            let path: String = try row.get("provider_file_id", as: String?.self) ?? ""
            let recorded: String = try row.get("sha256")
            paths.insert(path)
            #expect(try row.get("status", as: String.self) == "uploaded")
            #expect(answers.first { $0.id == String(id) }?.sha256 == recorded, "row \(id) records what its client sent")
            let stored = try [UInt8](Data(contentsOf: URL(fileURLWithPath: storageRoot + path)))
            #expect(Sodium.hex(StreamingDigest.digest(.sha256, stored)) == recorded, "row \(id): \(path) holds its own bytes")
        }
        #expect(paths.count == 160, "no two rows share a stored file")
        #expect(IntakeTestServer.files(under: storageRoot + "Intake/Demo uploads").count == 160, "and no leftovers")
    }

    @Test("an old receipt never shows another client's file: upload as A, the owner deletes it, B uploads, A's receipt is gone")
    func receiptAfterDelete() throws {
        let site = try DemoSite()
        defer { site.server.stop() }
        let a = try site.upload([("from-a.txt", Array("A's file\n".utf8))], fields: [("clientName", "Ada")])
        let receiptA = try #require(DemoSite.string("receipt", in: a.text))
        let idA = try #require(DemoSite.string("uploadId", in: a.text))
        #expect(try site.server.get("/api/receipts/" + receiptA).text.contains("from-a.txt"))
        let deleted = try HTTPClient.request(port: site.server.port, method: "DELETE", path: "/api/uploads/" + idA,
                                             headers: [("Cookie", "intake_session=\(site.owner.cookies["intake_session"]!)"),
                                                       ("X-CSRF-Token", site.owner.csrfToken!)])
        #expect(deleted.status == 200 && deleted.text.contains(#""message":"File deleted successfully""#))
        let b = try site.upload([("from-b.txt", Array("B's file\n".utf8))], fields: [("clientName", "Bob")])
        let receiptB = try #require(DemoSite.string("receipt", in: b.text))
        #expect(DemoSite.string("uploadId", in: b.text) != idA, "the deleted file's id is not given again")
        let old = try site.server.get("/api/receipts/" + receiptA)
        #expect(old.status == 404 && !old.text.contains("from-b.txt"))
        let oldPage = try site.server.get("/p/demo/receipt?r=" + receiptA)
        #expect(oldPage.status == 404 && !oldPage.text.contains("from-b.txt"))
        #expect(try site.server.get("/api/receipts/" + receiptB).text.contains("from-b.txt"))
        // A receipt made from B's id alone, without B's secret, shows nothing.
        let idB = try #require(DemoSite.string("uploadId", in: b.text))
        #expect(try site.server.get("/api/receipts/\(idB).AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").status == 404)
    }

    @Test("uploads that can never be accepted are answered within 2 s, before their body; /healthz still answers")
    func refusedBeforeBody() throws {
        let site = try DemoSite()
        defer { site.server.stop() }
        let boundary = "XyZ"
        let type = ("Content-Type", "multipart/form-data; boundary=\(boundary)")
        let tenGiB: Int64 = 10 * 1024 * 1024 * 1024
        // A field, and the start of the next part (a field ends where the next boundary begins).
        func part(_ name: String, _ value: String) -> [UInt8] {
            Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n--\(boundary)\r\n".utf8)
        }
        // No cookie and no header: it can never carry a valid token.
        let anonymous = try HTTPClient.answerBeforeBody(port: site.server.port, path: "/api/upload", headers: [type], declaredLength: tenGiB, sent: [])
        #expect(anonymous.result.status == 403 && anonymous.seconds < 2, "\(anonymous.result.status) after \(anonymous.seconds) s")
        #expect(anonymous.result.text.contains(#""code":"csrf_failed""#))
        let form = try HTTPClient.answerBeforeBody(port: site.server.port, path: "/p/demo/upload", headers: [type], declaredLength: 4096,
                                                   sent: part("clientName", "Eve"))
        #expect(form.result.status == 403 && form.seconds < 2)
        // A cookie, but the first part is not the token.
        let cookie = ("Cookie", "intake_csrf=\(site.token)")
        let notFirst = try HTTPClient.answerBeforeBody(port: site.server.port, path: "/p/demo/upload", headers: [type, cookie], declaredLength: 1_000_000,
                                                       sent: part("clientName", "Eve"))
        #expect(notFirst.result.status == 403 && notFirst.seconds < 2)
        // A token field that goes on and on.
        let endless = try HTTPClient.answerBeforeBody(port: site.server.port, path: "/p/demo/upload", headers: [type, cookie], declaredLength: 1_000_000,
                                                      sent: Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n".utf8)
                                                        + Array(repeating: UInt8(ascii: "a"), count: 300))
        #expect(endless.result.status == 403 && endless.seconds < 2)
        // A genuine token, but more than the portal (20 files of 2 GiB) could ever take.
        let huge = try HTTPClient.answerBeforeBody(port: site.server.port, path: "/p/demo/upload", headers: [type, cookie],
                                                   declaredLength: 50 * 1024 * 1024 * 1024, sent: part("csrf_token", site.token))
        #expect(huge.result.status == 413 && huge.seconds < 2, "\(huge.result.status) after \(huge.seconds) s")
        // The script's way: the portal is known from its field, the owner's storage cannot hold 10 GiB.
        let script = try HTTPClient.answerBeforeBody(port: site.server.port, path: "/api/upload", headers: [type, cookie, ("X-CSRF-Token", site.token)],
                                                     declaredLength: tenGiB, sent: part("portalId", "1"))
        #expect(script.result.status == 413 && script.seconds < 2, "\(script.result.status) after \(script.seconds) s")
        #expect(script.result.text.contains(#""code":"quota_exceeded""#), "\(script.result.text)")
        #expect(try site.server.get("/healthz").status == 200)
        #expect(try site.db.scalar("SELECT count(*) FROM file_uploads", as: Int.self) == 0)
        #expect(try site.db.scalar("SELECT count(*) FROM upload_reservations", as: Int.self) == 0)
        #expect(site.server.spoolFiles.isEmpty)
    }

    @Test("hostile file names are kept as a safe last component, listed and served so; the download carries the safety headers")
    func hostileNames() throws {
        let site = try DemoSite()
        defer { site.server.stop() }
        let long = String(repeating: "n", count: 300) + ".txt"
        let cases: [(sent: String, kept: String)] = [
            ("../../../../etc/kit-pass.txt", "kit-pass.txt"), ("/etc/passwd.txt", "passwd.txt"), ("..%2F..%2Fsecret.txt", "..%2F..%2Fsecret.txt"),
            ("invoice\u{202E}txt.exe.txt", "invoicetxt.exe.txt"), ("CR%0D%0ALF.txt", "CRLF.txt"),  // a browser sends CR LF so escaped (long, String(repeating: "n", count: 251) + ".txt"),
        ]
        for (sent, kept) in cases {
            let answer = try site.upload([(sent, Array("hello\n".utf8))])
            #expect(answer.status == 200 && DemoSite.string("fileName", in: answer.text) == kept, "\(sent.prefix(40)): \(answer.text.prefix(200))")
            let id = try #require(DemoSite.string("uploadId", in: answer.text))
            let download = try site.owner.get("/api/uploads/\(id)/download")
            #expect(download.status == 200 && download.body == Array("hello\n".utf8))
            let disposition = download.headers["content-disposition"] ?? ""
            #expect(disposition.hasPrefix("attachment; filename=\"\(kept.unicodeScalars.allSatisfy(\.isASCII) ? kept : "")") || !kept.unicodeScalars.allSatisfy(\.isASCII))
            #expect(!disposition.contains("/") && !disposition.contains("\r") && !disposition.contains("\u{202E}"))
            #expect(download.headers["x-content-type-options"] == "nosniff", "\(download.headers)")
        }
        let stored = IntakeTestServer.files(under: site.server.home + "/storage")
        #expect(stored.count == cases.count && stored.allSatisfy { $0.hasPrefix("1/Intake/Demo uploads/") }, "\(stored)")
        let page = try site.owner.get("/dashboard/files").text
        #expect(page.contains("kit-pass.txt") && !page.contains("../"))
    }

    @Test("multipart bounds: too many parts, a part header block over 8 KiB, too many header lines — refused with the error shape, nothing kept")
    func multipartBounds() throws {
        let site = try DemoSite()
        defer { site.server.stop() }
        let boundary = "XyZ"
        func post(_ body: String) throws -> HTTPResult {
            try HTTPClient.request(port: site.server.port, method: "POST", path: "/api/upload",
                                   headers: [("Cookie", "intake_csrf=\(site.token)"), ("Content-Type", "multipart/form-data; boundary=\(boundary)"),
                                             ("X-CSRF-Token", site.token)], body: Array(body.utf8))
        }
        let field = "--\(boundary)\r\nContent-Disposition: form-data; name=\"portalId\"\r\n\r\n1\r\n"
        let manyParts = field + String(repeating: "--\(boundary)\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\ny\r\n", count: 101) + "--\(boundary)--\r\n"
        let parts = try post(manyParts)
        #expect(parts.status == 413 && parts.text.contains(#""code":"too_many_parts""#), "\(parts.status) \(parts.text)")
        let bigHeader = field + "--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\nX-Pad: "
            + String(repeating: "p", count: 9000) + "\r\n\r\nhello\r\n--\(boundary)--\r\n"
        let header = try post(bigHeader)
        #expect(header.status == 413 && header.text.contains(#""code":"payload_too_large""#) && header.text.contains("8192 bytes"), "\(header.text)")
        let manyLines = field + "--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n"
            + (0..<70).map { "X-\($0): y\r\n" }.joined() + "\r\nhello\r\n--\(boundary)--\r\n"
        let lines = try post(manyLines)
        #expect(lines.status == 413 && lines.text.contains("header lines"), "\(lines.text)")
        #expect(try site.db.scalar("SELECT count(*) FROM file_uploads", as: Int.self) == 0)
        #expect(site.server.spoolFiles.isEmpty)
    }

    @Test("without INTAKE_BASE_URL the site follows INTAKE_HTTP_PORT: a browser signs in on any port and demo-seed prints the right address")
    func anyPort() throws {
        let server = try IntakeTestServer(extraEnvironment: ["INTAKE_BASE_URL": ""])
        defer { server.stop() }
        let printed = try IntakeTestServer.run(IntakeTestServer.binary, ["demo-seed"], environment: server.environment)
        #expect(printed.contains("http://127.0.0.1:\(server.port)/p/demo"), "\(printed)")
        let credentials = try String(contentsOfFile: server.home + "/demo-credentials.txt", encoding: .utf8)
        let password = try #require(credentials.split(separator: "\n").first { $0.hasPrefix("user") }?.split(separator: " ").last)
        let browser = server.session()
        _ = try browser.get("/login")
        let signIn = try browser.post("/login", form: [("email", "owner@example.com"), ("password", String(password))],
                                      headers: [("Origin", "http://127.0.0.1:\(server.port)")])
        #expect(signIn.status == 303 && signIn.headers["location"] == "/dashboard", "\(signIn.status) \(signIn.text.prefix(200))")
    }
}
