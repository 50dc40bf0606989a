import Foundation
import Checksums
import Integrations
import Sodium
import Testing

@Suite("Local disk storage")
struct LocalDiskStorageTests {
    func withRoot(_ body: (String, String) throws -> Void) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("intake-local-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir + "/root", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let spool = dir + "/spool"
        try Data((0..<300_000).map { UInt8($0 % 253) }).write(to: URL(fileURLWithPath: spool))
        try body(dir + "/root", spool)
    }

    @Test("stores the spool's bytes under Intake/<folders>, never overwriting: a second file gets a numbered name")
    func store() throws {
        try withRoot { root, spool in
            let storage = LocalDiskStorage(root: root)
            let first = try storage.store(spoolPath: spool, length: 300_000, fileName: "report.pdf", contentType: "application/pdf", folder: ["Acme", "Ada"])
            let second = try storage.store(spoolPath: spool, length: 1000, fileName: "report.pdf", contentType: "application/pdf", folder: ["Acme", "Ada"])
            let spooled = try Data(contentsOf: URL(fileURLWithPath: spool))
            #expect(first == StoredFile(fileID: "Intake/Acme/Ada/report.pdf", path: "Intake/Acme/Ada/report.pdf", size: 300_000,
                                        checksums: ["sha256": Sodium.hex(StreamingDigest.digest(.sha256, Array(spooled)))]), "the checksum of the file read back")
            #expect(second.fileID == "Intake/Acme/Ada/report (2).pdf")
            let stored = try Data(contentsOf: URL(fileURLWithPath: root + "/" + first.fileID))
            #expect(stored == (try Data(contentsOf: URL(fileURLWithPath: spool))))
            #expect(try Data(contentsOf: URL(fileURLWithPath: root + "/" + second.fileID)).count == 1000)
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: root + "/Intake/Acme/Ada").filter { $0.hasSuffix(".partial") }
            #expect(leftovers.isEmpty)
        }
    }

    @Test("a delivery retried after a crash finds the spool already linked in place and takes it: one file, not two")
    func retriedDelivery() throws {
        try withRoot { root, spool in
            let storage = LocalDiskStorage(root: root)
            let other = try storage.store(spoolPath: spool, length: 10, fileName: "report.pdf", contentType: "application/pdf", folder: ["A"])
            let first = try storage.store(spoolPath: spool, length: 300_000, fileName: "report.pdf", contentType: "application/pdf", folder: ["A"])
            let again = try storage.store(spoolPath: spool, length: 300_000, fileName: "report.pdf", contentType: "application/pdf", folder: ["A"])
            #expect(other.fileID == "Intake/A/report.pdf" && first.fileID == "Intake/A/report (2).pdf" && again == first)
            #expect(try FileManager.default.contentsOfDirectory(atPath: root + "/Intake/A").sorted() == ["report (2).pdf", "report.pdf"])
        }
    }

    @Test("hostile names stay inside the root")
    func names() throws {
        try withRoot { root, spool in
            let storage = LocalDiskStorage(root: root)
            let stored = try storage.store(spoolPath: spool, length: 10, fileName: "../../etc/passwd", contentType: "text/plain", folder: ["..", "a/b"])
            // Separators become "_", leading dots go (no hidden files, no ".."), an empty name becomes "file".
            #expect(stored.fileID == "Intake/file/a_b/_.._etc_passwd")
            #expect(FileManager.default.fileExists(atPath: root + "/" + stored.fileID))
            #expect(storage.resolve("../secret") == nil && storage.resolve("/etc/passwd") == nil && storage.resolve("Intake/../x") == nil)
            try storage.delete(fileID: stored.fileID)
            #expect(!FileManager.default.fileExists(atPath: root + "/" + stored.fileID))
            try storage.delete(fileID: stored.fileID)  // already gone: fine
        }
    }

    @Test("digests over pieces equal the whole's; SHA-256 agrees with libsodium's; known vectors for SHA-1 and MD5")
    func streamingHash() {
        let data = (0..<100_000).map { UInt8($0 % 251) }
        let hasher = StreamingDigest(.sha256)
        for start in stride(from: 0, to: data.count, by: 7919) {
            data[start..<min(start + 7919, data.count)].withUnsafeBytes { hasher.update($0) }
        }
        #expect(hasher.finish() == Digest.sha256(data))
        #expect(Sodium.hex(StreamingDigest.digest(.sha1, Array("abc".utf8))) == "a9993e364706816aba3e25717850c26c9cd0d89d")
        #expect(Sodium.hex(StreamingDigest.digest(.md5, Array("abc".utf8))) == "900150983cd24fb0d6963f7d28e17f72")
    }
}
