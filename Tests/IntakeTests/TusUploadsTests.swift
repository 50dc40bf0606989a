import Checksums
import Database
import Foundation
import Integrations
@testable import Intake
import Sodium
import Spool
import Testing

@Suite("Resumable (tus) uploads: crash leftovers, refusals, expiry", .serialized)
struct TusUploadsTests {
    /// Appends `bytes` as one PATCH at `offset`.
    func append(_ uploads: TusUploads, _ id: String, offset: Int64, _ bytes: ArraySlice<UInt8>) throws -> TusUpload {
        var rest = bytes
        return try uploads.append(id: id, offset: offset, checksum: nil, declaredLength: Int64(bytes.count), remoteAddress: "") { buffer in
            let n = min(buffer.count, rest.count, 7_777)  // odd piece sizes, across SHA-256 blocks
            buffer.copyBytes(from: rest.prefix(n))
            rest = rest.dropFirst(n)
            return n
        }
    }

    func create(_ w: UploadSessionTests.World, _ uploads: TusUploads, name: String, length: Int) throws -> TusUpload {
        try uploads.create(portal: w.portal, fields: ["clientName": "Ada", "token": "never stored"], fileName: name,
                           contentType: "application/pdf", length: Int64(length), remoteAddress: "")
    }

    @Test("bytes a crashed writer left past the recorded offset are cut off; the file arrives whole with its SHA-256; the token is not stored")
    func crashLeftovers() throws {
        try withDatabase { db in
            let w = try UploadSessionTests().world(db)
            defer { try? FileManager.default.removeItem(atPath: w.root) }
            let uploads = TusUploads(env: w.env)
            let bytes = Array("%PDF-1.7\n".utf8) + (0..<300_000).map { UInt8($0 % 253) }
            let upload = try create(w, uploads, name: "report.pdf", length: bytes.count)
            #expect(try append(uploads, upload.id, offset: 0, bytes[0..<100_000]).offset == 100_000)
            // A writer died after writing more than it recorded.
            let handle = try #require(FileHandle(forWritingAtPath: uploads.spoolPath(upload.id)))
            handle.seekToEndOfFile()
            handle.write(Data(repeating: 0xEE, count: 5000))
            try handle.close()
            let done = try append(uploads, upload.id, offset: 100_000, bytes[100_000...])
            #expect(done.status == "uploaded" && done.offset == Int64(bytes.count))
            let sha = try db.scalar("SELECT sha256 FROM file_uploads WHERE id = $1", [done.fileUploadID!], as: String.self)
            #expect(sha == Sodium.hex(StreamingDigest.digest(.sha256, bytes)))
            // The stored file carries the SHA-256 its last chunk recorded, so it was not read back.
            let stored = FileManager.default.enumerator(atPath: w.root)?.compactMap { $0 as? String }.first { $0.hasSuffix("report.pdf") }
            #expect(RecordedSHA256.recorded(at: w.root + "/" + (try #require(stored))) == sha)
            #expect(try db.scalar("SELECT client_fields FROM tus_uploads", as: String.self) == #"{"clientName":"Ada"}"#)
            #expect(try db.scalar("SELECT storage_used_bytes FROM users WHERE id = $1", [w.ownerID], as: Int.self) == bytes.count)
            #expect(try db.scalar("SELECT count(*) FROM upload_reservations", as: Int.self) == 0)
            #expect(w.counters.all == ["file tus \(bytes.count)"], "counted once, when the last chunk completed it")
        }
    }

    @Test("on a portal narrowed to documents, a program named .pdf is rejected at the end: bytes and reservation go, the reason stays, nothing is counted")
    func rejectedAtCompletion() throws {
        try withDatabase { db in
            let w = try UploadSessionTests().world(db) { $0.allowedFamilies = [.documents] }
            defer { try? FileManager.default.removeItem(atPath: w.root) }
            let uploads = TusUploads(env: w.env)
            let bytes: [UInt8] = [0x4D, 0x5A] + [UInt8](repeating: 0, count: 1000)
            let upload = try create(w, uploads, name: "invoice.pdf", length: bytes.count)
            #expect(throws: UploadRefusal.self) { try append(uploads, upload.id, offset: 0, bytes[...]) }
            let after = try #require(try uploads.find(id: upload.id))
            #expect(after.status == "rejected" && after.failureReason?.contains("is really a Windows program") == true)
            #expect(!FileManager.default.fileExists(atPath: uploads.spoolPath(upload.id)))
            #expect(try db.scalar("SELECT count(*) FROM upload_reservations", as: Int.self) == 0)
            #expect(try db.scalar("SELECT storage_used_bytes FROM users WHERE id = $1", [w.ownerID], as: Int.self) == 0)
            #expect(throws: TusFailure.finished(status: "rejected")) { try append(uploads, upload.id, offset: Int64(bytes.count), []) }
            #expect(w.counters.all.isEmpty)
        }
    }

    @Test("an upload left alone past its lifetime is gone, and the job removes it with its bytes and reservation; orphan spool files go too")
    func expiry() throws {
        try withDatabase { db in
            let w = try UploadSessionTests().world(db)
            defer { try? FileManager.default.removeItem(atPath: w.root) }
            let uploads = TusUploads(env: w.env, lifetime: 3600)
            let upload = try create(w, uploads, name: "slow.pdf", length: 10_000)
            _ = try append(uploads, upload.id, offset: 0, Array("%PDF-".utf8)[...])
            let orphan = uploads.directory + "/AAAAAAAAAAAAAAAAAAAAAA.part"
            FileManager.default.createFile(atPath: orphan, contents: Data([1]), attributes: [.modificationDate: Date(timeIntervalSince1970: 1_000)])

            w.clock.advance(1800)
            #expect(try uploads.removeExpired() == 0, "a chunk extended its life")
            #expect(try uploads.live(id: upload.id).offset == 5)
            w.clock.advance(3601)
            #expect(throws: TusFailure.gone) { try uploads.live(id: upload.id) }
            #expect(try uploads.removeExpired() == 1)
            #expect(throws: TusFailure.notFound) { try uploads.live(id: upload.id) }
            #expect(!FileManager.default.fileExists(atPath: uploads.spoolPath(upload.id)) && !FileManager.default.fileExists(atPath: orphan))
            #expect(try db.scalar("SELECT count(*) FROM upload_reservations", as: Int.self) == 0)
        }
    }

    @Test("one address may hold at most 20 unfinished uploads open on a portal; finishing or cancelling one makes room")
    func openUploadsPerAddress() throws {
        try withDatabase { db in
            let w = try UploadSessionTests().world(db)
            defer { try? FileManager.default.removeItem(atPath: w.root) }
            let uploads = TusUploads(env: w.env)
            let open = try (0..<TusUploads.maxOpenPerAddress).map { _ in try create(w, uploads, name: "a.pdf", length: 1000) }
            #expect(throws: UploadRefusal(.tooMany, "You have 20 unfinished uploads to this portal. Finish or cancel some before starting more.")) {
                try create(w, uploads, name: "a.pdf", length: 1000)
            }
            try uploads.terminate(id: open[0].id)
            #expect(try create(w, uploads, name: "a.pdf", length: 1000).offset == 0)
        }
    }

    @Test("with the scanner down the last chunk is kept but not accepted (fail closed); the recovery pass completes it once scanning works")
    func stalledCompletion() throws {
        try withDatabase { db in
            let down = try UploadSessionTests().world(db, scanner: ClamdScanner(socketPath: "/nonexistent/clamd.sock"))
            defer { try? FileManager.default.removeItem(atPath: down.root) }
            let uploads = TusUploads(env: down.env)
            let bytes = Array("%PDF-1.7\n".utf8) + [UInt8](repeating: 1, count: 20_000)
            let upload = try create(down, uploads, name: "scan.pdf", length: bytes.count)
            #expect(throws: UploadRefusal.self) { try append(uploads, upload.id, offset: 0, bytes[...]) }
            let waiting = try #require(try uploads.find(id: upload.id))
            #expect(waiting.status == "received" && waiting.isComplete && waiting.failureReason?.contains("viruses") == true)
            #expect(try db.scalar("SELECT count(*) FROM file_uploads", as: Int.self) == 0, "nothing unscanned is accepted")

            // The scanner is back (here: none configured); the recovery pass finishes the upload once it has sat idle.
            let recovered = TusUploads(env: UploadEnvironment(db: db, clock: down.clock, secretKey: down.env.secretKey,
                                                             spoolDirectory: down.env.spoolDirectory, scanner: nil, provider: down.env.provider))
            #expect(try recovered.completeStalled() == 0, "not while it may still be in hand")
            down.clock.advance(31)
            #expect(try recovered.completeStalled() == 1)
            #expect(try uploads.find(id: upload.id)?.status == "uploaded")
            #expect(try db.scalar("SELECT storage_used_bytes FROM users WHERE id = $1", [down.ownerID], as: Int.self) == bytes.count)
            #expect(try db.scalar("SELECT count(*) FROM upload_reservations", as: Int.self) == 0)
        }
    }
}
