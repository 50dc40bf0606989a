import Database
import Foundation
import Synchronization
import Testing
import TestSupport

/// `intake reconcile` as an operator runs it: the real binary, with the server's environment,
/// against the server's database and a fake Google Drive that files were uploaded to through
/// nginx, after three things went wrong behind Intake's back.
@Suite("intake reconcile against a fake Google Drive: missing files, orphans, usage counters", .serialized,
       .enabled(if: integrationEnabled, "set INTAKE_INTEGRATION=1 (scripts/test does)"))
struct ReconcileTests {
    /// What a run of the command printed and how it ended.
    /// `intake reconcile` with `arguments`, as a process of its own.
    func reconcile(_ server: IntakeTestServer, _ arguments: [String] = []) throws -> IntakeTestServer.Outcome {
        try server.intake(["reconcile"] + arguments)
    }

    /// Every row of every table, each as column → value.
    func dump(_ db: any Database) throws -> [String: [[String: DatabaseValue]]] {
        var tables: [String: [[String: DatabaseValue]]] = [:]
        for name in try db.tableNames() {
            // In a stable order (SQLite's is the rowid's; PostgreSQL has none of its own): the key first.
            let order = db.dialect == .sqlite ? "" : " ORDER BY 1, 2"
            tables[name] = try db.query("SELECT * FROM \"\(name)\"" + order).map { row in
                Dictionary(uniqueKeysWithValues: zip(row.columns, row.values))
            }
        }
        return tables
    }

    /// A server whose jobs stay quiet after their first run (so nothing but the command writes
    /// while it is watched), the owner's Google Drive connected, answered by a fake Drive.
    func site() throws -> CloudSetup<FakeDriveServer> {
        let box = Mutex<FakeDriveServer?>(nil)
        let (server, google, owner) = try StorageAPITests().connected(extraEnvironment: { google in
            let drive = try FakeDriveServer(authorize: { google.isValidAccessToken($0) })
            box.withLock { $0 = drive }
            return ["INTAKE_GOOGLE_API_URL": drive.apiURL, "INTAKE_GOOGLE_UPLOAD_URL": drive.uploadURL, "INTAKE_JOBS_INTERVAL": "3600"]
        })
        return CloudSetup(server: server, oauth: google, owner: owner, fake: try #require(box.withLock { $0 }),
                          db: try server.openDatabase())
    }

    func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "not a JSON object: \(text.prefix(300))")
    }

    @Test("a file deleted at Drive, an orphan in Intake's folder and usage off by 1234 bytes: reported exactly (text and JSON, exit 1) with nothing changed; --repair fixes exactly those (usage summed, the file marked, the orphan in quarantine and kept) and a second run is consistent (exit 0)")
    func reportThenRepair() throws {
        let site = try site()
        defer { site.stop() }
        let (server, drive, db) = (site.server, site.fake, site.db)
        let visitor = try CloudUploadTests.Visitor(server)
        for (name, text) in [("kept.txt", "kept\n"), ("gone.txt", "gone soon\n"), ("also-kept.txt", "also kept\n")] {
            #expect(try visitor.upload(name, Array(text.utf8)).status == 200)
        }
        #expect(try db.scalar("SELECT count(*) FROM file_uploads WHERE status = 'uploaded'", as: Int.self) == 3)
        let ownerID = try #require(try db.scalar("SELECT id FROM users WHERE email_normalized = 'owner@example.com'", as: Int64.self))
        let clean = try reconcile(server)
        #expect(clean.status == 0 && clean.output.hasSuffix("found 0, unresolved 0, accounts not checked 0: consistent\n"), "\(clean.output)\(clean.errors)")

        // What went wrong: a file deleted at Drive behind Intake's back, a file in Intake's folder
        // no upload refers to (as a crash between Drive's answer and the commit leaves), usage off.
        let gone = try #require(drive.items.first { $0.name == "gone.txt" })
        let goneID = try #require(try db.scalar("SELECT id FROM file_uploads WHERE file_name = 'gone.txt'", as: Int64.self))
        drive.remove(gone.id)
        let orphan = drive.put(Array("left by a crash\n".utf8), named: "crash.pdf", in: ["Intake", "Tax documents", "Ada"])
        try db.execute("UPDATE users SET storage_used_bytes = storage_used_bytes + 1234 WHERE id = $1", [ownerID])
        let sum = try #require(try db.scalar("SELECT sum(size_bytes) FROM file_uploads WHERE user_id = $1", [ownerID], as: Int64.self))
        let (rows, items) = (try dump(db), drive.items.sorted { $0.id < $1.id })

        let text = try reconcile(server)
        #expect(text.status == 1, "\(text.output)\(text.errors)")
        let lines = text.output.split(separator: "\n").map(String.init)
        #expect(lines.filter { $0.hasPrefix("  ") } == [
            "  missing at the provider: upload \(goneID) \"gone.txt\" (10 bytes) at Intake/Tax documents/Ada/gone.txt [\(gone.id)]",
            "  orphan (no upload refers to it): Intake/Tax documents/Ada/crash.pdf (16 bytes) [\(orphan)]",
        ], "\(text.output)")
        #expect(lines.contains("counter users.storage_used_bytes of user \(ownerID) (owner@example.com): \(sum + 1234) recorded, the files add up to \(sum)"))
        #expect(lines.last == "found 3, unresolved 3, accounts not checked 0: run again with --repair to fix what was found")

        let machine = try reconcile(server, ["--json"])
        #expect(machine.status == 1)
        let report = try json(machine.output)
        #expect(report["found"] as? Int == 3 && report["unresolved"] as? Int == 3 && report["consistent"] as? Bool == false && report["repair"] as? Bool == false)
        let account = try #require((report["accounts"] as? [[String: Any]])?.first)
        #expect((report["accounts"] as? [Any])?.count == 1 && account["status"] as? String == "ACTIVE" && account["notChecked"] == nil)
        let missing = try #require(account["missing"] as? [[String: Any]])
        #expect(missing.count == 1 && missing.first?["uploadID"] as? Int64 == goneID && missing.first?["providerFileID"] as? String == gone.id)
        let orphans = try #require(account["orphans"] as? [[String: Any]])
        #expect(orphans.count == 1 && (orphans.first?["file"] as? [String: Any])?["fileID"] as? String == orphan)
        #expect((account["reappeared"] as? [Any])?.isEmpty == true)
        let counters = try #require(report["counters"] as? [[String: Any]])
        #expect(counters.count == 1 && counters.first?["counter"] as? String == "users.storage_used_bytes")
        #expect(counters.first?["recorded"] as? Int64 == sum + 1234 && counters.first?["actual"] as? Int64 == sum && counters.first?["id"] as? Int64 == ownerID)

        #expect(try dump(db) == rows, "the dry runs changed nothing in the database")
        #expect(drive.items.sorted { $0.id < $1.id } == items && drive.moves == 0, "nor at Drive")

        let repair = try reconcile(server, ["--repair"])
        #expect(repair.status == 0, "\(repair.output)\(repair.errors)")
        #expect(repair.output.contains("[\(gone.id)] -> marked missing") && repair.output.contains("-> moved to Intake Quarantine/Tax documents/Ada/crash.pdf"))
        #expect(repair.output.hasSuffix("found 3, unresolved 0, accounts not checked 0: everything found was repaired\n"))

        // Exactly those: usage is the sum; the missing file is marked (its row, status and size kept);
        // the orphan is in the quarantine with its bytes; nothing else changed but the audit log.
        #expect(try db.scalar("SELECT storage_used_bytes FROM users WHERE id = $1", [ownerID], as: Int64.self) == sum)
        var after = try dump(db)
        let now = try #require(after["file_uploads"]?.first { $0["id"] == .integer(goneID) }?["missing_since"])
        #expect(now != .null)
        for table in ["users", "file_uploads"] {
            for index in after[table]!.indices {
                for column in ["storage_used_bytes", "missing_since", "updated_at"] where after[table]![index][column] != nil {
                    let id = after[table]![index]["id"]
                    let changed = (table == "users" && column == "storage_used_bytes" && id == .integer(ownerID))
                        || (table == "file_uploads" && column != "storage_used_bytes" && id == .integer(goneID))
                    if changed { after[table]![index][column] = rows[table]![index][column] }
                }
            }
        }
        let audited = after["audit_log"]!.dropFirst(rows["audit_log"]!.count).compactMap { entry -> String? in
            if case .text(let action) = entry["action"] { return action }
            return nil
        }
        #expect(audited == ["file_upload.missing_at_provider", "storage.orphan_quarantined", "user.usage_recomputed"])
        after["audit_log"] = Array(after["audit_log"]!.prefix(rows["audit_log"]!.count))
        #expect(after == rows, "nothing else in the database changed")
        #expect(drive.path(of: orphan) == ["Intake Quarantine", "Tax documents", "Ada", "crash.pdf"])
        #expect(drive.items.first { $0.id == orphan }?.bytes == Array("left by a crash\n".utf8))
        let quarantine = Set(drive.items.filter { $0.name == "Intake Quarantine" || drive.path(of: $0.id).first == "Intake Quarantine" }.map(\.id))
        #expect(drive.items.filter { !quarantine.contains($0.id) }.sorted { $0.id < $1.id } == items.filter { $0.id != orphan }, "nothing else at Drive changed")

        // The owner's list says so; a second run finds everything consistent.
        let list = try site.owner.get("/dashboard/files").text
        #expect(list.contains("Missing from storage") && list.contains("Not found in Google Drive since"))
        let second = try reconcile(server)
        #expect(second.status == 0 && second.output.hasSuffix("found 0, unresolved 0, accounts not checked 0: consistent\n"), "\(second.output)")
        #expect(try json(try reconcile(server, ["--json"]).output)["consistent"] as? Bool == true)
    }

    @Test("usage errors exit 64; an account that cannot be checked (ERROR) is named and exits 2; another user's run sees only theirs")
    func exitCodes() throws {
        let site = try site()
        defer { site.stop() }
        #expect(try reconcile(site.server, ["--bogus"]).status == 64)
        let unknown = try reconcile(site.server, ["--user", "nobody@example.com"])
        #expect(unknown.status == 64 && unknown.errors.contains("no account with the e-mail nobody@example.com"))
        #expect(try reconcile(site.server, ["--user", "other@example.com"]).status == 0)
        try site.db.execute("UPDATE storage_accounts SET status = 'ERROR', last_error = 'Google Drive cannot be reached right now'")
        let unchecked = try reconcile(site.server, ["--user", "owner@example.com"])
        #expect(unchecked.status == 2, "\(unchecked.output)\(unchecked.errors)")
        #expect(unchecked.output.contains("NOT CHECKED: the account is ERROR (Google Drive cannot be reached right now): its files cannot be reached"))
    }
}
