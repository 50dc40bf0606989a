import Checksums
import Database
import Foundation
import Sodium
import Synchronization
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// Intake connected to the fake Google (or Dropbox) OAuth server and the fake Drive (or Dropbox)
/// API, with one portal; the owner's signed-in session.
struct CloudSetup<Fake> {
    let server: IntakeTestServer
    let oauth: FakeOAuthServer
    let owner: WebSession
    let fake: Fake
    let db: any Database

    func stop() {
        server.stop()
        oauth.stop()
        (fake as? FakeDriveServer)?.stop()
        (fake as? FakeDropboxServer)?.stop()
    }

    static func drive(workers: Int = 2, hosts: Int = 1, tokenLifetime: Int = 3600, environment: [String: String] = [:]) throws -> CloudSetup<FakeDriveServer> {
        let box = Mutex<FakeDriveServer?>(nil)
        let (server, google, owner) = try StorageAPITests().connected(workers: workers, hosts: hosts, tokenLifetime: tokenLifetime, extraEnvironment: { google in
            let drive = try FakeDriveServer(authorize: { google.isValidAccessToken($0) })
            box.withLock { $0 = drive }
            return ["INTAKE_GOOGLE_API_URL": drive.apiURL, "INTAKE_GOOGLE_UPLOAD_URL": drive.uploadURL].merging(environment) { _, extra in extra }
        })
        return CloudSetup<FakeDriveServer>(server: server, oauth: google, owner: owner, fake: try #require(box.withLock { $0 }),
                                           db: try server.openDatabase())
    }

    static func dropbox() throws -> CloudSetup<FakeDropboxServer> {
        let box = Mutex<FakeDropboxServer?>(nil)
        let (server, oauth, owner) = try StorageAPITests().connected(kind: .dropbox, extraEnvironment: { oauth in
            let dropbox = try FakeDropboxServer(identity: oauth, authorize: { oauth.isValidAccessToken($0) })
            box.withLock { $0 = dropbox }
            return ["INTAKE_DROPBOX_API_URL": dropbox.url, "INTAKE_DROPBOX_CONTENT_URL": dropbox.url]
        })
        return CloudSetup<FakeDropboxServer>(server: server, oauth: oauth, owner: owner, fake: try #require(box.withLock { $0 }),
                                             db: try server.openDatabase())
    }

    /// Waits until upload `id` is `status` (delivery runs in the background); returns what it is.
    func waitForStatus(_ id: Int, _ status: String, seconds: Double = 60) throws -> String? {
        let deadline = Date().addingTimeInterval(seconds)
        var current: String?
        repeat {
            current = try db.scalar("SELECT status FROM file_uploads WHERE id = $1", [id], as: String.self)
            if current == status { return current }
            usleep(200_000)
        } while Date() < deadline
        return current
    }

    /// Usage equals the sum of the recorded files' sizes, and (within a few seconds, as a dead
    /// worker's reservations are dropped by the others) nothing is still reserved.
    func countedOnce() throws -> Bool {
        let used = try db.scalar("SELECT storage_used_bytes FROM users WHERE email = 'owner@example.com'", as: Int.self)
        let total = try db.scalar("SELECT coalesce(sum(size_bytes), 0) FROM file_uploads", as: Int.self)
        var held = 1
        for _ in 0..<50 {
            held = try db.scalar("SELECT count(*) FROM upload_reservations", as: Int.self) ?? 0
            if held == 0 { break }
            usleep(100_000)
        }
        return used == total && held == 0
    }

    func recordedSHA256(_ id: Int) throws -> String? {
        try db.scalar("SELECT sha256 FROM file_uploads WHERE id = $1", [id], as: String.self)
    }
}

@Suite("Background delivery: large resumable uploads into Drive and Dropbox, worker crashes, checksum mismatches (fake providers)", .serialized,
       .enabled(if: integrationEnabled, "set INTAKE_INTEGRATION=1 (scripts/test does)"))
struct DeliveryTests {
    static let mib = 1024 * 1024

    /// Random bytes behind a PDF signature, quickly.
    func pdf(_ size: Int) -> [UInt8] {
        var rng = SystemRandomNumberGenerator()
        var bytes = [UInt8](repeating: 0, count: size)
        bytes.withUnsafeMutableBytes { raw in
            let words = raw.bindMemory(to: UInt64.self)
            for i in words.indices { words[i] = rng.next() }
        }
        bytes.replaceSubrange(0..<9, with: Array("%PDF-1.7\n".utf8))
        return bytes
    }

    func hex(_ bytes: [UInt8]) -> String { Sodium.hex(StreamingDigest.digest(.sha256, bytes)) }

    /// Sends `bytes` through tus in `chunk`-sized PATCHes; the chunks numbered in `cuts` lose their
    /// connection a third of the way in, and the upload resumes from the offset HEAD reports.
    /// Returns the final PATCH's answer.
    func tusUpload(_ server: IntakeTestServer, _ bytes: [UInt8], name: String, chunk: Int, cuts: Set<Int>) throws -> HTTPResult {
        let tus = ("Tus-Resumable", "1.0.0"), type = ("Content-Type", "application/offset+octet-stream")
        let metadata = [("portalId", "1"), ("filename", name), ("clientName", "Ada")]
            .map { "\($0.0) \(Data($0.1.utf8).base64EncodedString())" }.joined(separator: ",")
        let created = try HTTPClient.request(port: server.port, method: "POST", path: "/api/tus/",
                                             headers: [tus, ("Upload-Length", String(bytes.count)), ("Upload-Metadata", metadata)])
        let location = try #require(created.headers["location"], "\(created.status) \(created.text)")
        var offset = 0, index = 0, cutsMade = 0
        var last: HTTPResult?
        while offset < bytes.count {
            let end = min(offset + chunk, bytes.count)
            if cuts.contains(index) && cutsMade < cuts.count {
                cutsMade += 1
                try HTTPClient.cutRequest(port: server.port, method: "PATCH", path: location, headers: [tus, type, ("Upload-Offset", String(offset))],
                                          declaredLength: end - offset, sent: Array(bytes[offset..<(offset + (end - offset) / 3)]))
                var held = offset
                for _ in 0..<50 {
                    held = Int(try HTTPClient.request(port: server.port, method: "HEAD", path: location, headers: [tus]).headers["upload-offset"] ?? "") ?? offset
                    if held > offset { break }
                    usleep(100_000)
                }
                #expect(held > offset, "the bytes before the cut were kept")
                offset = held
            } else {
                let answer = try HTTPClient.request(port: server.port, method: "PATCH", path: location,
                                                    headers: [tus, type, ("Upload-Offset", String(offset))], body: Array(bytes[offset..<end]),
                                                    timeout: 300)
                #expect(answer.status == 204, "\(answer.status) \(answer.text)")
                offset = Int(answer.headers["upload-offset"] ?? "") ?? offset
                last = answer
            }
            index += 1
        }
        return try #require(last)
    }

    @Test("300 MiB through tus in 20 MiB chunks, the connection cut twice, arrives in Google Drive with the same SHA-256, counted once")
    func largeIntoDrive() throws {
        let setup = try CloudSetup<FakeDriveServer>.drive()
        defer { setup.stop() }
        let bytes = pdf(300 * Self.mib)
        let last = try tusUpload(setup.server, bytes, name: "archive.pdf", chunk: 20 * Self.mib, cuts: [3, 9])
        let id = try #require(last.headers["intake-upload-id"].flatMap { Int($0) })
        #expect(try setup.waitForStatus(id, "uploaded") == "uploaded")
        let item = try #require(setup.fake.items.first { $0.name == "archive.pdf" })
        let recorded = try setup.recordedSHA256(id)
        #expect(hex(item.bytes) == hex(bytes) && recorded == hex(bytes))
        #expect(try setup.countedOnce())
        #expect(setup.server.spoolFiles.isEmpty, "\(setup.server.spoolFiles)")
    }

    @Test("300 MiB through tus in 20 MiB chunks, the connection cut twice, arrives in Dropbox with the same SHA-256 and content hash, counted once")
    func largeIntoDropbox() throws {
        let setup = try CloudSetup<FakeDropboxServer>.dropbox()
        defer { setup.stop() }
        let bytes = pdf(300 * Self.mib)
        let last = try tusUpload(setup.server, bytes, name: "archive.pdf", chunk: 20 * Self.mib, cuts: [1, 12])
        let id = try #require(last.headers["intake-upload-id"].flatMap { Int($0) })
        #expect(try setup.waitForStatus(id, "uploaded") == "uploaded")
        let file = try #require(setup.fake.files.first)
        let recorded = try setup.recordedSHA256(id)
        #expect(hex(file.bytes) == hex(bytes) && recorded == hex(bytes))
        #expect(try setup.countedOnce())
        #expect(setup.server.spoolFiles.isEmpty, "\(setup.server.spoolFiles)")
    }

    @Test("kill -9 of the worker delivering a file: another worker takes over its lease and resumes the saved Drive session, never starting over")
    func crashDuringDelivery() throws {
        let setup = try CloudSetup<FakeDriveServer>.drive()
        defer { setup.stop() }
        let visitor = try CloudUploadTests.Visitor(setup.server)
        let bytes = pdf(40 * Self.mib)
        setup.fake.delayChunks(0.7)  // five 8 MiB chunks: time to stop the worker halfway
        let client = Thread { _ = try? visitor.upload("big.pdf", bytes) }
        client.start()

        // Wait until the delivery is under way: a saved session and a chunk or two at Drive.
        var holder: String?
        for _ in 0..<100 {
            holder = try setup.db.scalar("SELECT lease_holder FROM file_uploads WHERE id = 1 AND provider_session IS NOT NULL", as: String?.self) ?? nil
            if holder != nil, (setup.fake.sessionBytes.max() ?? 0) >= 8 * Self.mib { break }
            usleep(100_000)
        }
        let pid = try #require(holder.map { $0.split(separator: ":") }.flatMap { $0.count > 1 ? Int32($0[1]) : nil }, "holder is host:pid:token")
        #expect(setup.server.workerPIDs().contains(pid))
        #expect(kill(pid, SIGKILL) == 0)
        setup.fake.delayChunks(0)

        #expect(try setup.waitForStatus(1, "uploaded") == "uploaded")
        let item = try #require(setup.fake.items.first { $0.name == "big.pdf" })
        #expect(hex(item.bytes) == hex(bytes))
        #expect(setup.fake.sessionsStarted == 1, "the saved session was resumed")
        #expect(setup.fake.statusQueries >= 1, "the resuming worker asked Drive what it held")
        #expect(try setup.db.scalar("SELECT count(*) FROM file_uploads WHERE lease_holder IS NULL", as: Int.self) == 1, "the lease was given back")
        #expect(try setup.countedOnce())
        #expect(setup.server.spoolFiles.isEmpty, "\(setup.server.spoolFiles)")
    }

    @Test("a copy whose checksum does not match (Drive's sha256Checksum, Dropbox's content_hash) is removed and delivered again")
    func checksumMismatch() throws {
        let drive = try CloudSetup<FakeDriveServer>.drive()
        defer { drive.stop() }
        let bytes = pdf(3 * Self.mib)
        drive.fake.corruptNextUploads(1)
        let sent = try CloudUploadTests.Visitor(drive.server).upload("scan.pdf", bytes)
        #expect(sent.status == 200 && sent.text.contains(#""status":"delivering""#), "\(sent.text)")
        #expect(try drive.db.scalar("SELECT failure_reason FROM file_uploads WHERE id = 1", as: String.self)?.contains("does not match") == true)
        // Operators see the failed attempt in the log, by upload id and reason (never a token).
        let logged = drive.server.serveLogText().split(separator: "\n").first { $0.contains("delivery attempt failed") } ?? ""
        #expect(logged.contains("upload_id=1") && logged.contains("does not match") && logged.contains("attempt=1"), "\(logged)")
        // The client follows the file by its receipt: on its way, then delivered; a forged receipt shows nothing.
        let receipt = try #require(sent.text.range(of: #""receipt":""#).map { String(sent.text[$0.upperBound...].prefix { $0 != "\"" }) })
        let page = try drive.server.get("/p/p/receipt?r=" + receipt)
        #expect(page.status == 200 && page.text.contains("being delivered") && page.text.contains("Check again") && !page.text.contains("does not match"))
        #expect(try drive.server.get("/api/receipts/1.AAAA").status == 404)
        #expect(try drive.waitForStatus(1, "uploaded") == "uploaded")
        let followed = try drive.server.get("/api/receipts/" + receipt)
        #expect(followed.text == #"{"fileName":"scan.pdf","status":"uploaded","statusText":"delivered","final":true}"#)
        let copies = drive.fake.items.filter { $0.name == "scan.pdf" }
        #expect(copies.count == 1 && copies.first.map { hex($0.bytes) } == hex(bytes), "the bad copy was removed, the good one kept")
        let once = try drive.countedOnce()
        #expect(drive.fake.sessionsStarted == 2 && once)

        let dropbox = try CloudSetup<FakeDropboxServer>.dropbox()
        defer { dropbox.stop() }
        dropbox.fake.corruptNextUploads(1)
        let again = try CloudUploadTests.Visitor(dropbox.server).upload("scan.pdf", bytes)
        #expect(again.status == 200 && again.text.contains(#""status":"delivering""#), "\(again.text)")
        #expect(try dropbox.waitForStatus(1, "uploaded") == "uploaded")
        #expect(dropbox.fake.files.count == 1 && dropbox.fake.files.first.map { hex($0.bytes) } == hex(bytes))
        #expect(try dropbox.countedOnce())
    }
}
