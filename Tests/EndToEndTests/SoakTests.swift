import Checksums
import Database
import Foundation
import Synchronization
import Testing
import TestSupport

/// The chaos soak (`scripts/soak [minutes]`; a minute of it in `scripts/test`): mixed traffic
/// through nginx into a fake Google Drive — pages, multipart and tus uploads of random sizes,
/// downloads, deletes, admin form posts — while workers are killed with SIGKILL, clamd restarts,
/// Drive answers 429, 503 and 403 rate limits and drops connections, and the mail server goes
/// away for a while. Then every promise is checked: each upload answered with success is stored
/// once with its SHA-256 and delivered with its bytes; nothing refused is stored; usage counters
/// equal the files; no spool file is left without a row; no 5xx but while its worker was being
/// killed; every mail sent once.
/// How long the soak runs (`INTAKE_SOAK_SECONDS`); 0, the default, skips it.
let soakSeconds = Int(ProcessInfo.processInfo.environment["INTAKE_SOAK_SECONDS"] ?? "") ?? 0

@Suite("Chaos soak", .serialized, .enabled(if: integrationEnabled && soakSeconds > 0, "set INTAKE_INTEGRATION=1 and INTAKE_SOAK_SECONDS (scripts/test, scripts/soak)"))
struct SoakTests {
    static var seconds: Int { soakSeconds }

    /// What one client saw of one request.
    struct Answer: Sendable {
        let what: String
        let started: Double
        let ended: Double
        let status: Int
    }

    /// An upload as its client knows it: unique name, the bytes' SHA-256, how it was answered.
    struct Sent: Sendable {
        let name: String
        let sha256: String
        let bytes: [UInt8]
        let accepted: Bool
        /// Refused with a 4xx: must not be stored.
        let refused: Bool
    }

    final class Record: Sendable {
        let answers = Mutex<[Answer]>([])
        let sent = Mutex<[Sent]>([])
        let deleted = Mutex<Set<String>>([])
        let kills = Mutex<[Double]>([])
        let faults = Mutex<[String: Int]>([:])
        let mismatchedDownloads = Mutex<[String]>([])

        func answer(_ what: String, _ started: Double, _ status: Int) {
            answers.withLock { $0.append(Answer(what: what, started: started, ended: Date().timeIntervalSince1970, status: status)) }
        }
        func fault(_ name: String) { faults.withLock { $0[name, default: 0] += 1 } }
    }

    static func hex(_ bytes: [UInt8]) -> String { StreamingDigest.digest(.sha256, bytes).map { String(format: "%02x", $0) }.joined() }

    /// One client: signs in as the owner, then loops over random actions until `deadline`.
    static func client(_ number: Int, server: IntakeTestServer, token: String, adminPassword: String, ownerID: Int64, deadline: Double, record: Record) {
        var rng = SystemRandomNumberGenerator()
        let owner = server.session()
        let admin = server.session()
        var n = 0
        func now() -> Double { Date().timeIntervalSince1970 }
        func signIn(_ session: WebSession, _ email: String, _ password: String) {
            _ = try? session.get("/login")
            _ = try? session.post("/login", form: [("email", email), ("password", password)])
        }
        signIn(owner, "owner@example.com", "correct horse battery")
        signIn(admin, "admin@example.com", adminPassword)
        _ = try? owner.get("/dashboard")  // the signed-in session's CSRF token, for the deletes
        while now() < deadline {
            n += 1
            let started = now()
            let roll = Int.random(in: 0..<100, using: &rng)
            do {
                switch roll {
                case 0..<35:  // a multipart upload of a few bytes to 1.5 MB
                    let name = "c\(number)-m\(n).pdf"
                    let bytes = pdf(Int.random(in: 0...1_500_000, using: &rng), &rng)
                    let boundary = "----soak\(UInt32.random(in: 0...UInt32.max, using: &rng))"
                    let result = try HTTPClient.request(
                        port: server.port, method: "POST", path: "/api/upload",
                        headers: [("Cookie", "intake_csrf=\(token)"), ("Content-Type", "multipart/form-data; boundary=\(boundary)"), ("X-CSRF-Token", token)],
                        body: PortalUploadTests().multipart(boundary: boundary, fields: [("portalId", "1"), ("clientName", "Soak \(number)")], files: [(name, bytes)]))
                    record.answer("upload", started, result.status)
                    record.sent.withLock {
                        $0.append(Sent(name: name, sha256: hex(bytes), bytes: bytes, accepted: result.status == 200, refused: (400..<500).contains(result.status)))
                    }
                case 35..<45:  // a resumable upload in two chunks
                    let name = "c\(number)-t\(n).pdf"
                    let bytes = pdf(Int.random(in: 1...2_000_000, using: &rng), &rng)
                    let tus = TusUploadTests()
                    let created = try tus.create(server, name: name, length: bytes.count)
                    record.answer("tus create", started, created.status)
                    guard created.status == 201, let location = created.headers["location"] else {
                        record.sent.withLock { $0.append(Sent(name: name, sha256: hex(bytes), bytes: bytes, accepted: false, refused: (400..<500).contains(created.status))) }
                        continue
                    }
                    let half = bytes.count / 2
                    var status = try tus.patch(server, location, offset: 0, bytes[0..<half]).status
                    record.answer("tus patch", started, status)
                    if status == 204 {
                        let second = now()
                        status = try tus.patch(server, location, offset: half, bytes[half...]).status
                        record.answer("tus patch", second, status)
                    }
                    // A tus upload is accepted once its last PATCH is answered 204; anything else
                    // leaves it unfinished (not stored as a file) or refused.
                    record.sent.withLock { $0.append(Sent(name: name, sha256: hex(bytes), bytes: bytes, accepted: status == 204, refused: false)) }
                case 45..<65:  // pages
                    let path = ["/dashboard", "/dashboard/files", "/dashboard/portals", "/p/p", "/dashboard/settings"].randomElement(using: &rng)!
                    let result = try owner.get(path)
                    record.answer("GET \(path)", started, result.status)
                case 65..<78:  // a download of an accepted upload, checked byte for byte
                    guard let pick = record.sent.withLock({ $0.filter(\.accepted).randomElement(using: &rng) }),
                          !record.deleted.withLock({ $0.contains(pick.name) }) else { continue }
                    let files = try owner.get("/api/v1/uploads?limit=5&search=" + pick.name, headers: [("Accept", "application/json")])
                    record.answer("GET /api/v1/uploads", started, files.status)
                    guard let id = Self.uploadID(files.text, name: pick.name) else { continue }
                    let second = now()
                    let got = try owner.get("/api/uploads/\(id)/download")
                    record.answer("download", second, got.status)
                    if got.status == 200 && got.body != pick.bytes { record.mismatchedDownloads.withLock { $0.append(pick.name) } }
                case 78..<86:  // a delete of an accepted upload
                    guard let pick = record.sent.withLock({ $0.filter(\.accepted).randomElement(using: &rng) }),
                          !record.deleted.withLock({ $0.contains(pick.name) }) else { continue }
                    let files = try owner.get("/api/v1/uploads?limit=5&search=" + pick.name, headers: [("Accept", "application/json")])
                    record.answer("GET /api/v1/uploads", started, files.status)
                    guard let id = Self.uploadID(files.text, name: pick.name), let csrf = owner.csrfToken else { continue }
                    let second = now()
                    let gone = try HTTPClient.request(port: server.port, method: "DELETE", path: "/api/uploads/\(id)",
                                                      headers: [("Cookie", "intake_session=\(owner.cookies["intake_session"] ?? "")"), ("X-CSRF-Token", csrf)])
                    record.answer("delete", second, gone.status)
                    if gone.status == 200 { record.deleted.withLock { _ = $0.insert(pick.name) } }
                default:  // an admin form post: the owner's quota override, set and kept large
                    _ = try admin.get("/admin/users/\(ownerID)")
                    let saved = try admin.post("/admin/storage/quotas", form: [
                        ("user_id", String(ownerID)), ("action", "set"), ("override_number", String(Int.random(in: 50...60, using: &rng))), ("override_unit", "GB"),
                    ])
                    record.answer("POST /admin/storage/quotas", started, saved.status)
                }
            } catch {
                // A connection refused or cut (a worker killed under it): counted as a 5xx-like answer.
                record.answer("error: \(error)", started, 599)
            }
        }
    }

    /// A PDF's signature and `count` random bytes (the portal takes PDF files).
    static func pdf(_ count: Int, _ rng: inout SystemRandomNumberGenerator) -> [UInt8] {
        var bytes = Array("%PDF-1.7\n".utf8)
        bytes.reserveCapacity(bytes.count + count + 8)
        while bytes.count < count + 9 {
            withUnsafeBytes(of: rng.next() as UInt64) { bytes.append(contentsOf: $0) }
        }
        return Array(bytes.prefix(count + 9))
    }

    /// The id of the upload named `name` in a files API answer.
    static func uploadID(_ json: String, name: String) -> Int? {
        guard let data = json.data(using: .utf8), let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let files = object["uploads"] as? [[String: Any]] ?? object["files"] as? [[String: Any]] else { return nil }
        return files.first { ($0["fileName"] as? String) == name }.flatMap { ($0["id"] as? String).flatMap(Int.init) ?? $0["id"] as? Int }
    }

    @Test("mixed traffic through nginx while workers are killed, clamd restarts, Drive fails and mail goes away: nothing accepted is lost, nothing refused is kept, counters, spool and mail agree")
    func soak() throws {
        let clamd = try ClamdProcess()
        defer { clamd.stop(); clamd.removeDirectory() }
        var sink = try SMTPSink()
        var sinks = [sink]
        let smtpPort = sink.port
        let driveBox = Mutex<FakeDriveServer?>(nil)
        let (server, google, _) = try StorageAPITests().connected(workers: 3, extraEnvironment: { google in
            let drive = try FakeDriveServer(authorize: { google.isValidAccessToken($0) })
            driveBox.withLock { $0 = drive }
            return ["INTAKE_GOOGLE_API_URL": drive.apiURL, "INTAKE_GOOGLE_UPLOAD_URL": drive.uploadURL, "INTAKE_CLAMD_SOCKET": clamd.socketPath,
                    "INTAKE_SMTP_URL": sink.url, "INTAKE_MAIL_FROM": "Intake <intake@example.com>", "INTAKE_JOBS_INTERVAL": "2",
                    "INTAKE_TUS_THRESHOLD_KIB": "64"]
        })
        let drive = try #require(driveBox.withLock { $0 })
        defer { server.stop(); google.stop(); drive.stop() }
        let db = try server.openDatabase()
        try db.execute("UPDATE users SET quota_override_bytes = 60000000000 WHERE email_normalized = 'owner@example.com'")
        let adminPassword = "correct horse battery staple"
        try server.createUser(email: "admin@example.com", name: "Ada", role: "admin", password: adminPassword)
        let visitor = server.session()
        #expect(try visitor.get("/p/p").status == 200)
        let token = try #require(visitor.csrfToken)
        let ownerID = try #require(try db.scalar("SELECT id FROM users WHERE email_normalized = 'owner@example.com'", as: Int64.self))

        let record = Record()
        let deadline = Date().timeIntervalSince1970 + Double(Self.seconds)
        let clients = (0..<6).map { number in
            let thread = Thread { Self.client(number, server: server, token: token, adminPassword: adminPassword, ownerID: ownerID, deadline: deadline, record: record) }
            thread.start()
            return thread
        }
        _ = clients

        // The faults, one every 2-5 s, until the deadline.
        var rng = SystemRandomNumberGenerator()
        var smtpDownUntil: Double?
        while Date().timeIntervalSince1970 < deadline - 3 {
            Thread.sleep(forTimeInterval: Double.random(in: 2...5, using: &rng))
            if let until = smtpDownUntil, Date().timeIntervalSince1970 >= until {
                sink = try SMTPSink(port: smtpPort)
                sinks.append(sink)
                smtpDownUntil = nil
                record.fault("smtp back")
            }
            switch Int.random(in: 0..<6, using: &rng) {
            case 0, 1:
                if let pid = server.workerPIDs().randomElement(using: &rng) {
                    record.kills.withLock { $0.append(Date().timeIntervalSince1970) }
                    kill(pid, SIGKILL)
                    record.fault("worker killed")
                }
            case 2:
                try clamd.restart()
                record.fault("clamd restarted")
            case 3:
                drive.failNextChunks([[.status(503)], [.status(429)], [.drop], [.forbidden(.userRateLimitExceeded, retryAfter: 1)], [.answerLost]]
                    .randomElement(using: &rng)!)
                record.fault("drive chunk failure")
            case 4:
                drive.refuseNextSessionStarts([.rateLimitExceeded])
                record.fault("drive session refused")
            default:
                if smtpDownUntil == nil {
                    sink.stop()
                    smtpDownUntil = Date().timeIntervalSince1970 + 8
                    record.fault("smtp stopped")
                }
            }
        }
        for thread in clients { while !thread.isFinished { Thread.sleep(forTimeInterval: 0.1) } }
        if smtpDownUntil != nil {
            sink = try SMTPSink(port: smtpPort)
            sinks.append(sink)
        }

        // Drain: deliveries and mail are brought forward, then waited for until none is left (the
        // outbox sends 50 a pass), as long as each minute makes progress. Nothing may be left due:
        // the housekeeping run below jumps the clock, which no live jobs runner expects.
        var lastProgress = Date(), lastLeft = Int.max
        while true {
            try db.execute("UPDATE file_uploads SET next_attempt_at = 0 WHERE status = 'delivering'")
            try db.execute("UPDATE mail_outbox SET next_attempt_at = 0 WHERE sent_at IS NULL AND failed_at IS NULL")
            let waiting = try db.scalar("SELECT count(*) FROM file_uploads WHERE status = 'delivering'", as: Int.self) ?? 0
            let unsent = try db.scalar("SELECT count(*) FROM mail_outbox WHERE sent_at IS NULL AND failed_at IS NULL", as: Int.self) ?? 0
            if waiting + unsent == 0 { break }
            if waiting + unsent < lastLeft { lastLeft = waiting + unsent; lastProgress = Date() }
            if Date().timeIntervalSince(lastProgress) > 60 { break }
            Thread.sleep(forTimeInterval: 1)
        }
        #expect(try db.scalar("SELECT count(*) FROM mail_outbox WHERE sent_at IS NULL", as: Int.self) == 0, "every mail went out")

        let sent = record.sent.withLock { $0 }
        let deleted = record.deleted.withLock { $0 }
        let answers = record.answers.withLock { $0 }
        let kills = record.kills.withLock { $0 }
        let accepted = sent.filter(\.accepted)
        #expect(accepted.count >= 10, "the soak uploaded something: \(sent.count) sent, \(accepted.count) accepted")

        // Every accepted upload is stored once with its SHA-256, delivered with its bytes
        // (unless its client deleted it); nothing refused is stored.
        var rowsByName: [String: [(status: String, sha256: String?, providerID: String?)]] = [:]
        for row in try db.query("SELECT file_name, status, sha256, provider_file_id FROM file_uploads") {
            rowsByName[try row.get("file_name"), default: []].append((try row.get("status"), try row.get("sha256"), try row.get("provider_file_id")))
        }
        let items = Dictionary(drive.items.filter { !$0.trashed }.map { ($0.id, $0.bytes) }) { a, _ in a }
        var lost: [String] = [], duplicated: [String] = [], wrong: [String] = [], undelivered: [String] = []
        for upload in accepted where !deleted.contains(upload.name) {
            let rows = rowsByName[upload.name] ?? []
            if rows.isEmpty { lost.append(upload.name); continue }
            if rows.count > 1 { duplicated.append(upload.name) }
            let row = rows[0]
            if row.sha256 != upload.sha256 { wrong.append(upload.name) }
            if row.status != "uploaded" { undelivered.append("\(upload.name): \(row.status)"); continue }
            if let id = row.providerID, items[id] != upload.bytes { wrong.append(upload.name + " at Drive") }
        }
        #expect(lost.isEmpty && duplicated.isEmpty && wrong.isEmpty && undelivered.isEmpty,
                "lost \(lost), duplicated \(duplicated), wrong \(wrong), undelivered \(undelivered)")
        let refusedButStored = sent.filter { $0.refused && rowsByName[$0.name] != nil }.map(\.name)
        #expect(refusedButStored.isEmpty, "refused, yet stored: \(refusedButStored)")
        #expect(record.mismatchedDownloads.withLock { $0 }.isEmpty, "downloads that differed from what was sent")
        // Drive holds each delivered file once as far as Intake knows: exactly one copy of each name
        // is the one its row names. A worker killed between Drive's answer and the commit can leave
        // a second copy that no row names — an orphan, which `intake reconcile --repair` moves to
        // quarantine (ReconcileTests); counted and printed, never taken for the file.
        let namedAtDrive = Set(rowsByName.values.flatMap { $0.compactMap(\.providerID) })
        var copies: [String: (all: Int, named: Int)] = [:]
        for item in drive.items where !item.trashed {
            copies[item.name, default: (0, 0)].all += 1
            if namedAtDrive.contains(item.id) { copies[item.name, default: (0, 0)].named += 1 }
        }
        let namedTwice = copies.filter { $0.value.named > 1 }.map(\.key)
        let orphanCopies = copies.values.reduce(0) { $0 + $1.all - $1.named }
        #expect(namedTwice.isEmpty, "rows naming two copies of one file at Drive: \(namedTwice.prefix(10))")

        // Usage counters equal the files (diagnose recomputes them from the files; no provider asked).
        let diagnosis = try IntakeTestServer.run(IntakeTestServer.binary, ["diagnose", "--user", "owner@example.com", "--offline", "--json"],
                                                 environment: server.environment, allowFailure: true)
        let findings = (try JSONSerialization.jsonObject(with: Data(diagnosis.utf8)) as? [String: Any])?["findings"] as? [[String: Any]] ?? []
        let counterTrouble = findings.filter { ($0["check"] as? String) == "usage" && ($0["subject"] as? String) != "quota" && ($0["verdict"] as? String) != "ok" }
        #expect(!findings.isEmpty && counterTrouble.isEmpty, "\(counterTrouble) \(diagnosis.prefix(500))")

        // No 5xx but while a worker was being killed (its requests then fail, as nginx answers 502).
        let unexplained = answers.filter { $0.status >= 500 }.filter { answer in
            !kills.contains { kill in answer.started <= kill + 0.5 && answer.ended >= kill - 0.5 }
        }
        #expect(unexplained.isEmpty, "5xx not explained by a killed worker: \(unexplained.prefix(10).map { "\($0.what) \($0.status)" })")

        // No spool file without a row, once the housekeeping has run (hours later, by faketime).
        let spoolBefore = server.spoolFiles.count
        // NO_FAKE_STAT: libfaketime would move the files' times forward too, and nothing would look old.
        _ = try IntakeTestServer.run("/usr/bin/faketime", ["-f", "+7h", IntakeTestServer.binary, "jobs", "run"],
                                     environment: server.environment.merging(["NO_FAKE_STAT": "1"]) { _, new in new })
        let referenced = Set(try db.query("SELECT spool_path FROM file_uploads WHERE spool_path IS NOT NULL").map { try $0.get("spool_path", as: String.self) })
        let tusIDs = Set(try db.query("SELECT id FROM tus_uploads").map { try $0.get("id", as: String.self) })
        let orphans = server.spoolFiles.filter { file in
            !referenced.contains(server.home + "/spool/" + file) && !tusIDs.contains { file.contains($0) }
        }
        #expect(orphans.isEmpty, "spool files without a row: \(orphans.prefix(10))")

        // Every mail sent once, across the mail server's restarts.
        let messages = sinks.flatMap(\.messages)
        for each in sinks { each.stop() }
        let ids = messages.compactMap { message in message.data.range(of: "Message-ID: <outbox-").map { String(message.data[$0.upperBound...].prefix { $0 != "." }) } }
        let sentIDs = Set(try db.query("SELECT id FROM mail_outbox WHERE sent_at IS NOT NULL").map { String(try $0.get("id", as: Int64.self)) })
        #expect(ids.count == Set(ids).count, "a mail arrived twice")
        #expect(sentIDs.isSubset(of: Set(ids)), "every mail marked sent arrived: \(sentIDs.subtracting(ids).sorted().prefix(10))")
        #expect(!sentIDs.isEmpty, "upload notifications were mailed")

        let faults = record.faults.withLock { $0 }
        var byStatus: [String: Int] = [:]
        for answer in answers { byStatus["\(answer.what.hasPrefix("GET") ? "GET" : answer.what) \(answer.status)", default: 0] += 1 }
        print("soak answers: \(byStatus.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", "))")
        print("soak: \(Self.seconds) s, \(answers.count) requests, \(sent.count) uploads (\(accepted.count) accepted, \(deleted.count) deleted), "
              + "\(kills.count) workers killed, faults \(faults.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")), "
              + "\(messages.count) mails, lost \(lost.count), orphan copies at Drive \(orphanCopies), spool files \(spoolBefore) before the housekeeping and \(server.spoolFiles.count) after")
    }
}
