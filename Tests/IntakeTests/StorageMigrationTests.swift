import Database
import Foundation
import Integrations
@testable import Intake
import Synchronization
import Testing
import TestSupport

/// The provider ids whose downloads arrive damaged.
final class Corruption: Sendable {
    let ids = Mutex<Set<String>>([])
    func set(_ ids: Set<String>) { self.ids.withLock { $0 = ids } }
    func contains(_ id: String) -> Bool { ids.withLock { $0.contains(id) } }
}

/// Local-disk storage whose downloads of the files named in `corrupt` arrive with a byte changed,
/// as a link that damages data in transit would deliver them.
final class CorruptingStorage: StorageProvider, @unchecked Sendable {
    let disk: LocalDiskStorage
    let corrupt: Corruption
    init(root: String, corrupt: Corruption) {
        disk = LocalDiskStorage(root: root)
        self.corrupt = corrupt
    }

    func store(spoolPath: String, length: Int64, fileName: String, contentType: String, folder: [String],
               resume: ProviderSession?, checkpoint: (ProviderSession) throws -> Void) throws -> StoredFile {
        try disk.store(spoolPath: spoolPath, length: length, fileName: fileName, contentType: contentType, folder: folder, resume: resume, checkpoint: checkpoint)
    }
    func delete(fileID: String) throws { try disk.delete(fileID: fileID) }
    func size(fileID: String) throws -> Int64? { try disk.size(fileID: fileID) }
    func download(fileID: String, length: Int64, into sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        let damaged = corrupt.contains(fileID)
        var first = true
        try disk.download(fileID: fileID, length: length) { chunk in
            guard damaged && first else { return try sink(chunk) }
            first = false
            var bytes = [UInt8](chunk)
            bytes[bytes.count / 2] ^= 0x5A
            try bytes.withUnsafeBytes { try sink($0) }
        }
    }
    func listFiles() throws -> [ListedFile] { try disk.listFiles() }
    func quarantine(_ file: ListedFile) throws -> ListedFile { try disk.quarantine(file) }
}

@Suite("Storage migrations: verified copies, the one sanctioned rebind, failures reported, takeover after a crash", .serialized)
struct StorageMigrationTests {
    let actor = AuditLog.Actor(userID: nil, remoteAddress: "203.0.113.9")

    struct Setup {
        let world: UploadSessionTests.World
        let env: UploadEnvironment
        let corrupt: Corruption
        let destination: Int64
        var db: Database { world.db }
        var migrations: StorageMigrations { StorageMigrations(db: world.db, clock: world.clock) }
        var copier: StorageMigrationCopier { StorageMigrationCopier(env: env) }
    }

    func setup(_ db: Database) throws -> Setup {
        let w = try UploadSessionTests().world(db)
        let corrupt = Corruption()
        let env = UploadEnvironment(db: db, clock: w.clock, secretKey: w.env.secretKey, spoolDirectory: w.env.spoolDirectory, scanner: nil) { account in
            CorruptingStorage(root: w.root + "/storage/\(account.id)", corrupt: corrupt)
        }
        let second = try StorageAccountStore(db: db, clock: w.clock).createOrGet(userID: w.ownerID, provider: .local, providerAccountID: "disk-2",
                                                                               email: nil, displayName: "Second disk", by: actor).account
        return Setup(world: w, env: env, corrupt: corrupt, destination: second.id)
    }

    /// `count` files of distinct random bytes, delivered into the portal's account.
    func receive(_ s: Setup, count: Int) throws -> [(id: Int64, bytes: [UInt8])] {
        let files = (0..<count).map { n in ("file-\(n).bin", (0..<(20_000 + n * 777)).map { _ in UInt8.random(in: 0...255) }) }
        let received = try UploadSessionTests().upload(s.world, fields: [("clientName", "Ada")], files: files)
        #expect(received.allSatisfy { $0.status == .uploaded })
        return zip(received, files).map { ($0.uploadID, $1.1) }
    }

    func start(_ s: Setup, keepSource: Bool = false) throws -> StorageMigration {
        guard case .success(let started) = try s.migrations.start(userID: s.world.ownerID, scope: .account(s.world.accountID), destination: s.destination,
                                                                 keepSource: keepSource, by: actor) else {
            throw ValidationError("", "not started")
        }
        return started.migration
    }

    /// Runs the copier until nothing is due, advancing the clock past each backoff.
    func runToEnd(_ s: Setup, migration id: Int64) throws -> StorageMigration {
        for _ in 0..<50 {
            try s.copier.runDue(limit: 100)
            let migration = try #require(try s.migrations.find(id: id, userID: s.world.ownerID))
            if migration.status == .finished { return migration }
            s.world.clock.advance(700)
        }
        throw ValidationError("", "the migration did not finish")
    }

    /// Where file `id` is bound, and its bytes read back through that account's provider.
    func stored(_ s: Setup, _ id: Int64) throws -> (account: Int64, fileID: String, bytes: [UInt8]) {
        let row = try #require(try s.db.queryOne("SELECT storage_account_id, provider_file_id, size_bytes FROM file_uploads WHERE id = $1", [id]))
        let account: Int64 = try row.get("storage_account_id"), fileID: String = try row.get("provider_file_id")
        var bytes: [UInt8] = []
        try LocalDiskStorage(root: s.world.root + "/storage/\(account)").download(fileID: fileID, length: try row.get("size_bytes")) { bytes += $0 }
        return (account, fileID, bytes)
    }

    @Test("every file of an account is copied, checked and rebound; the old copies go; counts, audit and the owner's mail follow")
    func movesAnAccount() throws {
        try withDatabase { db in
            let s = try setup(db)
            defer { try? FileManager.default.removeItem(atPath: s.world.root) }
            let files = try receive(s, count: 6)
            let oldIDs = try files.map { try stored(s, $0.id).fileID }
            let started = try start(s)
            #expect(started.totalFiles == 6 && started.totalBytes == Int64(files.reduce(0) { $0 + $1.bytes.count }) && started.status == .running)
            let done = try runToEnd(s, migration: started.id)
            #expect(done.movedFiles == 6 && done.movedBytes == started.totalBytes && done.failedFiles == 0)
            for (file, oldID) in zip(files, oldIDs) {
                let now = try stored(s, file.id)
                #expect(now.account == s.destination && now.bytes == file.bytes)
                #expect(try LocalDiskStorage(root: s.world.root + "/storage/\(s.world.accountID)").size(fileID: oldID) == nil, "the old copy is deleted")
            }
            #expect(try db.query("SELECT id, uploaded_files FROM storage_accounts ORDER BY id").map { try $0.get("uploaded_files", as: Int64.self) } == [0, 6])
            #expect(try db.scalar("SELECT count(*) FROM audit_log WHERE action = 'file.migrated'", as: Int.self) == 6)
            #expect(try db.scalar("SELECT count(*) FROM mail_outbox WHERE subject = 'Your files were moved to Second disk'", as: Int.self) == 1)
            #expect(try s.copier.runDue() == 0 && (try db.scalar("SELECT count(*) FROM mail_outbox WHERE subject LIKE 'Your files were moved%'", as: Int.self)) == 1)
            #expect(IntakeTestServer.files(under: s.world.env.spool.path(.migrations)).isEmpty, "no copy left in the spool")
            // Nothing left to move now: a clear refusal, not an empty migration.
            guard case .failure(let refusal) = try s.migrations.start(userID: s.world.ownerID, scope: .account(s.world.accountID), destination: s.destination,
                                                                     keepSource: false, by: actor) else { Issue.record("started with nothing to move"); return }
            #expect(refusal.message.hasPrefix("There are no stored files to move"))
        }
    }

    @Test("a copy whose bytes do not match the recorded SHA-256 is never rebound: tried again, then reported; the owner's retry moves it once the link is sound")
    func corruptedCopyIsNotRebound() throws {
        try withDatabase { db in
            let s = try setup(db)
            defer { try? FileManager.default.removeItem(atPath: s.world.root) }
            let files = try receive(s, count: 4)
            let bad = try stored(s, files[2].id)
            s.corrupt.set([bad.fileID])
            let started = try start(s)
            let done = try runToEnd(s, migration: started.id)
            #expect(done.movedFiles == 3 && done.failedFiles == 1)
            let kept = try stored(s, files[2].id)
            #expect(kept.account == s.world.accountID && kept.fileID == bad.fileID && kept.bytes == files[2].bytes, "still bound where it was, intact")
            #expect(try LocalDiskStorage(root: s.world.root + "/storage/\(s.destination)").listFiles().count == 3, "no copy of it in the destination")
            let failures = try s.migrations.failures(migrationID: started.id)
            #expect(failures.count == 1 && failures[0].fileID == files[2].id && failures[0].reason.contains("do not match the file (SHA-256"), "\(failures)")
            #expect(try db.scalar("SELECT attempts FROM storage_migration_items WHERE file_upload_id = $1", [files[2].id], as: Int.self)
                    == StorageMigrationCopier.maxMismatches)
            #expect(try db.scalar("SELECT count(*) FROM mail_outbox WHERE subject = 'Moving files to Second disk: 1 not moved'", as: Int.self) == 1)

            s.corrupt.set([])
            #expect(try s.migrations.retryFailed(id: started.id, userID: s.world.ownerID, by: actor) == 1)
            let again = try runToEnd(s, migration: started.id)
            #expect(again.movedFiles == 4 && again.failedFiles == 0)
            #expect(try stored(s, files[2].id).account == s.destination)
        }
    }

    @Test("the database refuses every rebind but a verified migration's, to the copy it verified")
    func triggerRefusesOtherRebinds() throws {
        try withDatabase { db in
            let s = try setup(db)
            defer { try? FileManager.default.removeItem(atPath: s.world.root) }
            let file = try receive(s, count: 1)[0]
            func rebind(to fileID: String) -> Bool {
                (try? db.execute("UPDATE file_uploads SET storage_account_id = $1, provider_file_id = $2 WHERE id = $3",
                                 [s.destination, fileID, file.id])) != nil
            }
            #expect(!rebind(to: "elsewhere"), "no migration at all")
            let started = try start(s)
            #expect(!rebind(to: "elsewhere"), "a pending item")
            try db.execute("UPDATE storage_migration_items SET status = 'verified', destination_file_id = 'copy-1' WHERE migration_id = $1", [started.id])
            #expect(!rebind(to: "another-copy"), "verified, but not this copy")
            try db.execute("UPDATE storage_migrations SET destination_storage_account_id = $1 WHERE id = $2", [s.world.accountID, started.id])
            #expect(!rebind(to: "copy-1"), "verified, but for another destination")
            try db.execute("UPDATE storage_migrations SET destination_storage_account_id = $1 WHERE id = $2", [s.destination, started.id])
            #expect(rebind(to: "copy-1"), "the verified copy")
            #expect(try db.scalar("SELECT storage_account_id FROM file_uploads WHERE id = $1", [file.id], as: Int64.self) == s.destination)
        }
    }

    @Test("kept old copies stay and are not orphans to reconciliation; paused migrations copy nothing until resumed")
    func keepAndPause() throws {
        try withDatabase { db in
            let s = try setup(db)
            defer { try? FileManager.default.removeItem(atPath: s.world.root) }
            let files = try receive(s, count: 3)
            let old = try files.map { try stored(s, $0.id).fileID }
            let started = try start(s, keepSource: true)
            #expect(try s.migrations.setPaused(id: started.id, userID: s.world.ownerID, paused: true, by: actor))
            #expect(try s.copier.runDue() == 0, "paused: nothing taken")
            #expect(try !s.migrations.setPaused(id: started.id, userID: s.world.ownerID + 1, paused: false, by: actor), "another owner's")
            #expect(try s.migrations.setPaused(id: started.id, userID: s.world.ownerID, paused: false, by: actor))
            let done = try runToEnd(s, migration: started.id)
            #expect(done.movedFiles == 3)
            let source = LocalDiskStorage(root: s.world.root + "/storage/\(s.world.accountID)")
            #expect(try old.allSatisfy { try source.size(fileID: $0) != nil }, "the old copies are kept")
            #expect(try s.migrations.copiesKept(accountIDs: [s.world.accountID]) == Set(old))
        }
    }

    @Test("a portal's files move from whichever account holds them; refusals: another owner's, the same account, a paused destination, files already moving")
    func portalScopeAndRefusals() throws {
        try withDatabase { db in
            let s = try setup(db)
            defer { try? FileManager.default.removeItem(atPath: s.world.root) }
            let files = try receive(s, count: 2)
            let accounts = StorageAccountStore(db: db, clock: s.world.clock)
            func refusal(_ scope: StorageMigrations.Scope, to destination: Int64, user: Int64? = nil) throws -> String? {
                guard case .failure(let refused) = try s.migrations.start(userID: user ?? s.world.ownerID, scope: scope, destination: destination,
                                                                         keepSource: false, by: actor) else { return nil }
                return refused.message
            }
            let stranger = try UserStore(db: db, clock: s.world.clock).create(email: "x@example.com", name: "X", password: "long enough pw", role: .user)
            #expect(try refusal(.portal(s.world.portal.id), to: s.destination, user: stranger.id) == "Choose one of your storage accounts to move the files to.")
            #expect(try refusal(.portal(s.world.portal.id), to: s.world.accountID) == "There are no stored files to move: the files of portal Acme are already in Disk, or there are none.")
            #expect(try refusal(.account(s.world.accountID), to: s.world.accountID) == "Choose another account than the one the files are in.")
            try accounts.handleStatusChange(accountID: s.destination, event: .ownerDeactivates, reason: nil, by: actor)
            #expect(try refusal(.portal(s.world.portal.id), to: s.destination) == "Second disk is paused: files can only move to storage that is connected and active.")
            try accounts.handleStatusChange(accountID: s.destination, event: .ownerReactivates, reason: nil, by: actor)

            guard case .success(let started) = try s.migrations.start(userID: s.world.ownerID, scope: .portal(s.world.portal.id), destination: s.destination,
                                                                     keepSource: false, by: actor) else { Issue.record("not started"); return }
            #expect(started.migration.scopeName == "the files of portal Acme" && started.migration.totalFiles == 2 && started.leftOut == 0)
            #expect(try refusal(.account(s.world.accountID), to: s.destination) == "None of these files can move now: their storage cannot be read, or they are being moved already.")
            let done = try runToEnd(s, migration: started.migration.id)
            #expect(done.movedFiles == 2)
            #expect(try files.allSatisfy { try stored(s, $0.id).account == s.destination })
        }
    }

    @Test("a copier that died mid-file: its lease is taken over, the copy it left in the destination is removed, the file moves once")
    func takeoverAfterCrash() throws {
        try withDatabase { db in
            let s = try setup(db)
            defer { try? FileManager.default.removeItem(atPath: s.world.root) }
            let file = try receive(s, count: 1)[0]
            let started = try start(s)
            // The dead copier had stored a copy and recorded it, then vanished holding the lease.
            let destination = LocalDiskStorage(root: s.world.root + "/storage/\(s.destination)")
            let spool = s.world.root + "/left.bin"
            FileManager.default.createFile(atPath: spool, contents: Data(file.bytes))
            let left = try destination.store(spoolPath: spool, length: Int64(file.bytes.count), fileName: "file-0.bin", contentType: "application/octet-stream",
                                             folder: ["Acme"])
            try db.execute("UPDATE storage_migration_items SET destination_file_id = $1, lease_holder = 'elsewhere:1:dead', lease_expires = $2",
                           [left.fileID, s.world.clock.now() + 600])
            #expect(try s.copier.runDue() == 0, "a live-looking lease is respected")
            s.world.clock.advance(601)
            let done = try runToEnd(s, migration: started.id)
            #expect(done.movedFiles == 1)
            #expect(try destination.listFiles().count == 1, "one copy: the one left behind was removed")
            #expect(try stored(s, file.id).bytes == file.bytes)
        }
    }
}
