import Database
import Foundation
import Integrations
@testable import Intake
import Synchronization
import Testing
import TestSupport

@Suite("Reconciliation of the database with the storage", .serialized)
struct ReconciliationTests {
    let operator_ = AuditLog.Actor(userID: nil, remoteAddress: "")

    /// Every row of every table, to show that a dry run wrote nothing.
    func dump(_ db: Database) throws -> [String: [[DatabaseValue]]] {
        var tables: [String: [[DatabaseValue]]] = [:]
        for name in try db.tableNames() {
            tables[name] = try db.query("SELECT * FROM \"\(name)\"").map(\.values)
        }
        return tables
    }

    /// Every file under `root` and its bytes.
    func files(under root: String) throws -> [String: Data] {
        var found: [String: Data] = [:]
        for path in IntakeTestServer.files(under: root) { found[path] = try Data(contentsOf: URL(fileURLWithPath: root + "/" + path)) }
        return found
    }

    func reconciliation(_ w: UploadSessionTests.World) -> Reconciliation {
        Reconciliation(db: w.db, clock: w.clock) { account in LocalDiskStorage(root: w.root + "/storage/\(account.id)") }
    }

    @Test("counters: a user's usage and an account's delivered files and bytes that disagree with the files are found, without touching anything, and repaired to the sums, with an audit entry each")
    func counters() throws {
        try withDatabase { db in
            let w = try UploadSessionTests().world(db)
            defer { try? FileManager.default.removeItem(atPath: w.root) }
            let r = reconciliation(w)
            let sent = try UploadSessionTests().upload(w, fields: [("clientName", "Ada")], files: [("a.txt", Array("alpha\n".utf8)), ("b.txt", Array("beta!\n".utf8))])
            #expect(sent.count == 2)
            #expect(try r.counterDisagreements(userID: nil) == [])

            try db.execute("UPDATE users SET storage_used_bytes = storage_used_bytes + 7 WHERE id = $1", [w.ownerID])
            try db.execute("UPDATE storage_accounts SET uploaded_files = 5, uploaded_bytes = 1 WHERE id = $1", [w.accountID])
            let before = try dump(db)
            let found = try r.counterDisagreements(userID: nil)
            #expect(found == [
                .init(counter: .userStorageUsedBytes, id: w.ownerID, owner: "owner@example.com", recorded: 19, actual: 12),
                .init(counter: .accountUploadedFiles, id: w.accountID, owner: "owner@example.com", recorded: 5, actual: 2),
                .init(counter: .accountUploadedBytes, id: w.accountID, owner: "owner@example.com", recorded: 1, actual: 12),
            ])
            #expect(try r.counterDisagreements(userID: w.ownerID) == found)
            #expect(try r.counterDisagreements(userID: w.ownerID + 100) == [])
            let report = try r.report(userID: nil)
            #expect(report.counters == found && report.found == 3 && report.unresolved == 3 && !report.consistent)
            #expect(try dump(db) == before, "a dry run writes nothing")

            let repaired = try r.repair(userID: nil, by: operator_)
            #expect(repaired.counters.map(\.repairedTo) == [12, 2, 12] && repaired.unresolved == 0 && repaired.consistent)
            #expect(try db.scalar("SELECT storage_used_bytes FROM users WHERE id = $1", [w.ownerID], as: Int64.self) == 12)
            #expect(try db.scalar("SELECT uploaded_files || '/' || uploaded_bytes FROM storage_accounts", as: String.self) == "2/12")
            let audit = try db.query("SELECT action, entity_id, before_json, after_json FROM audit_log WHERE action LIKE '%recomputed' ORDER BY id")
            #expect(try audit.map { try $0.get("action", as: String.self) } == ["user.usage_recomputed", "storage.counters_recomputed"])
            #expect(try audit[0].get("before_json", as: String.self).contains("19") && (try audit[0].get("after_json", as: String.self)).contains("12"))
            #expect(try r.counterDisagreements(userID: nil) == [] && (try r.report(userID: nil)).consistent)

            // The sums count what the product counts: usage every recorded file (one failed
            // delivery included), the account's counters its delivered files only.
            try db.execute("UPDATE file_uploads SET status = 'failed' WHERE id = $1", [sent[0].uploadID])
            #expect(try r.counterDisagreements(userID: nil) == [], "the triggers kept the account's counters; usage still counts the failed file")
        }
    }

    @Test("files: one deleted behind Intake's back is missing, one no upload refers to is an orphan; a dry run changes neither the database nor the disk; repair marks the first (row, status and usage kept) and quarantines the second; a file restored is unmarked")
    func files() throws {
        try withDatabase { db in
            let w = try UploadSessionTests().world(db)
            defer { try? FileManager.default.removeItem(atPath: w.root) }
            let r = reconciliation(w)
            let sent = try UploadSessionTests().upload(w, fields: [("clientName", "Ada")], files: [("keep.txt", Array("keep\n".utf8)), ("lost.txt", Array("lost!\n".utf8))])
            let disk = w.root + "/storage/\(w.accountID)"
            #expect(try r.report(userID: nil).consistent)

            try FileManager.default.removeItem(atPath: disk + "/Intake/Acme/Ada/lost.txt")
            try Data("nobody's\n".utf8).write(to: URL(fileURLWithPath: disk + "/Intake/Acme/stray.txt"))
            let (rows, onDisk) = (try dump(db), try files(under: w.root))
            let report = try r.report(userID: w.ownerID)
            let account = try #require(report.accounts.first)
            #expect(report.accounts.count == 1 && account.notChecked == nil && account.reappeared == [])
            #expect(account.missing == [.init(uploadID: sent[1].uploadID, fileName: "lost.txt", size: 6, providerFileID: "Intake/Acme/Ada/lost.txt",
                                              providerPath: "Intake/Acme/Ada/lost.txt")])
            #expect(account.orphans == [.init(file: ListedFile(fileID: "Intake/Acme/stray.txt", path: "Intake/Acme/stray.txt", size: 9), deliveringUploadID: nil)])
            #expect(report.counters == [] && report.found == 2 && report.unresolved == 2 && !report.repair)
            #expect(try dump(db) == rows && (try files(under: w.root)) == onDisk, "a dry run changes nothing")

            let repaired = try r.repair(userID: nil, by: operator_)
            let fixed = try #require(repaired.accounts.first)
            #expect(fixed.missing.map(\.repaired) == [true] && fixed.orphans.map(\.quarantinedAs) == ["Intake Quarantine/Acme/stray.txt"])
            #expect(repaired.found == 2 && repaired.unresolved == 0 && repaired.consistent)
            #expect(try db.scalar("SELECT missing_since FROM file_uploads WHERE id = $1", [sent[1].uploadID], as: Int64.self) == w.clock.now())
            #expect(try db.scalar("SELECT count(*) FROM file_uploads WHERE status = 'uploaded' AND missing_since IS NULL", as: Int.self) == 1)
            #expect(try db.scalar("SELECT storage_used_bytes FROM users", as: Int64.self) == 11, "the missing file still counts until its owner deletes it")
            #expect(try FileStore(db: db, clock: w.clock).find(id: sent[1].uploadID)?.missingSince == w.clock.now())
            #expect(try Data(contentsOf: URL(fileURLWithPath: disk + "/Intake Quarantine/Acme/stray.txt")) == Data("nobody's\n".utf8))
            #expect(try db.query("SELECT action FROM audit_log WHERE action IN ('file_upload.missing_at_provider', 'storage.orphan_quarantined')").count == 2)
            let again = try r.report(userID: nil)
            #expect(again.consistent && again.found == 0, "a marked file and the quarantine are not found again")

            // Restored from the bin: found again, unmarked by the next repair.
            try Data("lost!\n".utf8).write(to: URL(fileURLWithPath: disk + "/Intake/Acme/Ada/lost.txt"))
            #expect(try r.report(userID: nil).accounts.first?.reappeared.map(\.uploadID) == [sent[1].uploadID])
            #expect(try r.repair(userID: nil, by: operator_).accounts.first?.reappeared.map(\.repaired) == [true])
            #expect(try db.scalar("SELECT count(*) FROM file_uploads WHERE missing_since IS NOT NULL", as: Int.self) == 0)
            #expect(try r.report(userID: nil).consistent)
        }
    }

    @Test("a disconnected account is reported as not checked, with why, never as all its files missing; an orphan the size of a delivery still running is left to that delivery")
    func notCheckedAndDeliveries() throws {
        try withDatabase { db in
            let s = try DeliveriesTests().setup(db)
            defer { try? FileManager.default.removeItem(atPath: s.world.root) }
            let w = s.world
            let r = reconciliation(w)
            s.storage.failures.withLock { $0 = [StorageProviderError("Drive answered 503", transient: true)] }
            let waiting = try DeliveriesTests().receive(s, DeliveriesTests().pdf)
            #expect(waiting.status == .delivering)
            // The delivery's file already at the storage, its row not yet saying so.
            let disk = w.root + "/storage/\(w.accountID)"
            try FileManager.default.createDirectory(atPath: disk + "/Intake/Acme/Ada", withIntermediateDirectories: true)
            try Data(DeliveriesTests().pdf).write(to: URL(fileURLWithPath: disk + "/Intake/Acme/Ada/report.pdf"))
            let report = try r.report(userID: nil)
            #expect(report.accounts.first?.orphans.map(\.deliveringUploadID) == [waiting.uploadID])
            #expect(report.found == 0 && report.consistent)
            #expect(try r.repair(userID: nil, by: operator_).accounts.first?.orphans.first?.quarantinedAs == nil)
            #expect(FileManager.default.fileExists(atPath: disk + "/Intake/Acme/Ada/report.pdf"))

            try StorageAccountStore(db: db, clock: w.clock).handleStatusChange(accountID: w.accountID, event: .accessRevoked, reason: "grant revoked",
                                                                              by: operator_)
            try FileManager.default.removeItem(atPath: disk)
            let unchecked = try r.report(userID: nil)
            #expect(unchecked.unchecked == 1 && !unchecked.consistent && unchecked.found == 0)
            #expect(unchecked.accounts.first?.notChecked?.hasPrefix("the account is DISCONNECTED") == true, "\(unchecked.accounts)")
        }
    }
}
