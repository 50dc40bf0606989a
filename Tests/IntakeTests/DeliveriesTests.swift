import Database
import Foundation
import Integrations
@testable import Intake
import Sodium
import Synchronization
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// A provider that fails as told, then stores on local disk.
final class FlakyStorage: StorageProvider, @unchecked Sendable {
    let disk: LocalDiskStorage
    let failures = Mutex<[StorageProviderError]>([])
    init(root: String) { disk = LocalDiskStorage(root: root) }

    func store(spoolPath: String, length: Int64, fileName: String, contentType: String, folder: [String],
               resume: ProviderSession?, checkpoint: (ProviderSession) throws -> Void) throws -> StoredFile {
        if let failure = failures.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) { throw failure }
        return try disk.store(spoolPath: spoolPath, length: length, fileName: fileName, contentType: contentType, folder: folder,
                              resume: resume, checkpoint: checkpoint)
    }
    func delete(fileID: String) throws { try disk.delete(fileID: fileID) }
    func size(fileID: String) throws -> Int64? { try disk.size(fileID: fileID) }
    func download(fileID: String, length: Int64, into sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        try disk.download(fileID: fileID, length: length, into: sink)
    }
    func listFiles() throws -> [ListedFile] { try disk.listFiles() }
    func quarantine(_ file: ListedFile) throws -> ListedFile { try disk.quarantine(file) }
}

@Suite("Deliveries: retries, giving up, the owner's retry, retention, leases, orphans", .serialized)
struct DeliveriesTests {
    struct Setup {
        let world: UploadSessionTests.World
        let env: UploadEnvironment
        let storage: FlakyStorage
    }

    func setup(_ db: Database) throws -> Setup {
        let w = try UploadSessionTests().world(db)
        let storage = FlakyStorage(root: w.root + "/storage")
        let env = UploadEnvironment(db: db, clock: w.clock, secretKey: w.env.secretKey, spoolDirectory: w.env.spoolDirectory, scanner: nil,
                                    deliveryWindow: 3600) { _ in storage }
        return Setup(world: w, env: env, storage: storage)
    }

    func receive(_ s: Setup, _ bytes: [UInt8], name: String = "report.pdf") throws -> ReceivedFile {
        let session = UploadSession(env: s.env, portal: s.world.portal, declaredLength: Int64(bytes.count + 1000), remoteAddress: "")
        try session.field("clientName", "Ada")
        try session.beginFile(name: name, contentType: "application/pdf")
        try bytes.withUnsafeBytes { try session.fileChunk($0) }
        try session.endFile()
        try session.finish()
        return session.received[0]
    }

    func status(_ db: Database, _ id: Int64) throws -> String? { try db.scalar("SELECT status FROM file_uploads WHERE id = $1", [id], as: String.self) }

    let pdf = Array("%PDF-1.7\n".utf8) + [UInt8](repeating: 42, count: 50_000)

    @Test("a transient failure leaves the file delivering with backoff; past the window it fails and the owner is told; the owner's retry delivers it")
    func retryThenFail() throws {
        try withDatabase { db in
            let s = try setup(db)
            defer { try? FileManager.default.removeItem(atPath: s.world.root) }
            s.storage.failures.withLock { $0 = Array(repeating: StorageProviderError("Drive answered 503", transient: true), count: 3) }
            let file = try receive(s, pdf)
            #expect(file.status == .delivering)
            #expect(try db.scalar("SELECT storage_used_bytes FROM users", as: Int.self) == pdf.count, "counted once, at arrival")
            let deliveries = Deliveries(env: s.env)
            #expect(try deliveries.runDue() == 0, "not due before its backoff")
            s.world.clock.advance(5)
            #expect(try deliveries.runDue() == 1 && (try status(db, file.uploadID)) == "delivering")
            #expect(try db.scalar("SELECT delivery_attempts FROM file_uploads", as: Int.self) == 2)
            s.world.clock.advance(3600)
            #expect(try deliveries.attempt(file.uploadID) == .failed("Drive answered 503"))
            #expect(try db.scalar("SELECT count(*) FROM mail_outbox WHERE subject LIKE 'A file could not be delivered%'", as: Int.self) == 1)
            #expect(try deliveries.runDue() == 0, "a failed file waits for its owner")

            #expect(try deliveries.retry(file.uploadID))
            #expect(try deliveries.runDue() == 1 && (try status(db, file.uploadID)) == "uploaded")
            let stored = try Data(contentsOf: URL(fileURLWithPath: s.world.root + "/storage/Intake/Acme/Ada/report.pdf"))
            #expect(stored == Data(pdf))
            #expect(IntakeTestServer.files(under: s.world.root + "/spool").isEmpty)
            #expect(try db.scalar("SELECT storage_used_bytes FROM users", as: Int.self) == pdf.count)
            #expect(try db.scalar("SELECT count(*) FROM mail_outbox WHERE subject LIKE 'New upload%'", as: Int.self) == 1)
        }
    }

    @Test("a permanent refusal in the request takes the file back out: no row, no usage, no spool, the client told")
    func refusedInline() throws {
        try withDatabase { db in
            let s = try setup(db)
            defer { try? FileManager.default.removeItem(atPath: s.world.root) }
            s.storage.failures.withLock { $0 = [StorageProviderError("Drive no longer grants access; reconnect it", transient: false)] }
            #expect(throws: UploadRefusal.self) { try receive(s, pdf) }
            #expect(try db.scalar("SELECT count(*) FROM file_uploads", as: Int.self) == 0)
            #expect(try db.scalar("SELECT storage_used_bytes FROM users", as: Int.self) == 0)
            #expect(try db.scalar("SELECT count(*) FROM upload_reservations", as: Int.self) == 0)
            #expect(IntakeTestServer.files(under: s.world.root + "/spool").isEmpty)
        }
    }

    @Test("a live holder's lease is respected, also by another thread of the same process; a dead process's lease is taken over at once")
    func leases() throws {
        try withDatabase { db in
            let s = try setup(db)
            defer { try? FileManager.default.removeItem(atPath: s.world.root) }
            s.storage.failures.withLock { $0 = [StorageProviderError("timeout", transient: true)] }
            let file = try receive(s, pdf)
            let first = Deliveries(env: s.env), second = Deliveries(env: s.env)
            #expect(try first.claim(file.uploadID))
            #expect(try second.attempt(file.uploadID) == .busy, "one process, two holders")
            #expect(throws: FileStore.FileBusy.self, "nor deleted under its deliverer") {
                try FileStore(db: db, clock: s.world.clock).delete(id: file.uploadID, provider: nil, by: AuditLog.Actor(userID: nil, remoteAddress: ""))
            }
            let host = s.env.liveness.host
            // A child that has exited: its pid is dead.
            var pid: pid_t = 0
            var argv: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/true"), nil]
            #expect(posix_spawn(&pid, "/bin/true", nil, nil, &argv, environ) == 0)
            var st: Int32 = 0
            waitpid(pid, &st, 0)
            try db.execute("UPDATE file_uploads SET lease_holder = $1, lease_expires = $2, next_attempt_at = NULL",
                           ["\(host):\(getppid())", s.world.clock.now() + 60])
            #expect(try Deliveries(env: s.env).attempt(file.uploadID) == .busy, "the parent process is alive")
            try db.execute("UPDATE file_uploads SET lease_holder = $1", ["\(host):\(pid)"])
            #expect(try Deliveries(env: s.env).attempt(file.uploadID) == .uploaded)
        }
    }

    @Test("retention removes a failed file nobody acted on (bytes and usage); orphan spools go; live ones stay")
    func retentionAndOrphans() throws {
        try withDatabase { db in
            let s = try setup(db)
            defer { try? FileManager.default.removeItem(atPath: s.world.root) }
            // The request's attempt fails for a while; the next one for good.
            s.storage.failures.withLock { $0 = [StorageProviderError("503", transient: true)] }
            let file = try receive(s, pdf)
            s.storage.failures.withLock { $0 = [StorageProviderError("the account is gone", transient: false)] }
            s.world.clock.advance(10)
            #expect(try Deliveries(env: s.env).attempt(file.uploadID) == .failed("the account is gone"))
            let orphan = s.env.spoolDirectory + "/deliveries/orphan.data"
            FileManager.default.createFile(atPath: orphan, contents: Data([1]), attributes: [.modificationDate: Date(timeIntervalSince1970: 1000)])
            let oldRequest = s.env.spoolDirectory + "/dead.spool"
            FileManager.default.createFile(atPath: oldRequest, contents: Data([1]), attributes: [.modificationDate: Date(timeIntervalSince1970: 1000)])

            #expect(try Deliveries(env: s.env).removeOrphanSpools() == 2)
            #expect(IntakeTestServer.files(under: s.env.spoolDirectory).count == 1, "the failed file's bytes are kept")
            #expect(try Deliveries(env: s.env).removeFailed(olderThan: 86400) == 0)
            s.world.clock.advance(86400)
            #expect(try Deliveries(env: s.env).removeFailed(olderThan: 86400) == 1)
            #expect(try db.scalar("SELECT count(*) FROM file_uploads", as: Int.self) == 0)
            #expect(try db.scalar("SELECT storage_used_bytes FROM users", as: Int.self) == 0)
            #expect(IntakeTestServer.files(under: s.env.spoolDirectory).isEmpty)
        }
    }
}
