import Foundation
import Checksums
import Integrations
import Sodium
@testable import Spool
import Synchronization
import Testing
import TestSupport

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
            #expect(second.fileID.wholeMatch(of: /Intake\/Acme\/Ada\/report \([a-z2-9]{6}\)\.pdf/) != nil, "\(second.fileID)")
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
            #expect(other.fileID == "Intake/A/report.pdf" && first.fileID != other.fileID && again == first)
            #expect(try FileManager.default.contentsOfDirectory(atPath: root + "/Intake/A").sorted() == [String(first.fileID.dropFirst(9)), "report.pdf"])
        }
    }

    @Test("32 threads storing 640 files of one name at once: every upload gets a file of its own holding its own bytes")
    func concurrentSameName() throws {
        try withRoot { root, _ in
            let storage = LocalDiskStorage(root: root)
            // 32 threads, each storing 20 files of that name: links (whole spools) and private
            // copies (a length one short of the spool), all racing for the same few names.
            let spools = (0..<640).map { n in root + "/../spool-\(n)" }
            for (n, path) in spools.enumerated() {
                try Data((0..<(1000 + n * 7)).map { UInt8(truncatingIfNeeded: $0 &* (n + 1)) }).write(to: URL(fileURLWithPath: path))
            }
            let results = Mutex<[(Int, StoredFile)]>([])
            let failures = Mutex<[String]>([])
            onThreads(32) { thread in
                for k in 0..<20 {
                    let n = thread * 20 + k
                    let length = Int64(1000 + n * 7) - Int64(k % 2)
                    do {
                        let stored = try storage.store(spoolPath: spools[n], length: length, fileName: "same.pdf", contentType: "application/pdf", folder: ["P"])
                        results.withLock { $0.append((n, stored)) }
                    } catch { failures.withLock { $0.append("\(error)") } }
                }
            }
            #expect(failures.withLock { $0 }.isEmpty)
            let all = results.withLock { $0 }
            #expect(all.count == 640)
            #expect(Set(all.map(\.1.fileID)).count == all.count, "no two uploads share a name")
            for (i, stored) in all {
                let bytes = try Data(contentsOf: URL(fileURLWithPath: root + "/" + stored.fileID))
                let spooled = try Data(contentsOf: URL(fileURLWithPath: spools[i])).prefix(Int(stored.size))
                #expect(bytes == spooled && stored.checksums["sha256"] == Sodium.hex(StreamingDigest.digest(.sha256, Array(bytes))))
            }
            let names = try FileManager.default.contentsOfDirectory(atPath: root + "/Intake/P")
            #expect(names.count == all.count && !names.contains { $0.hasSuffix(".partial") })
        }
    }

    @Test("the name search is constant work: with 10,000 copies of a name, another is stored at once")
    func manyCopies() throws {
        try withRoot { root, spool in
            let storage = LocalDiskStorage(root: root)
            try FileManager.default.createDirectory(atPath: root + "/Intake/M", withIntermediateDirectories: true)
            for n in 2...10_001 { FileManager.default.createFile(atPath: root + "/Intake/M/same (\(n)).pdf", contents: nil) }
            FileManager.default.createFile(atPath: root + "/Intake/M/same.pdf", contents: nil)
            let started = Date()
            let stored = try storage.store(spoolPath: spool, length: 300_000, fileName: "same.pdf", contentType: "application/pdf", folder: ["M"])
            #expect(stored.fileID != "Intake/M/same.pdf" && Date().timeIntervalSince(started) < 0.5)
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

    /// A spool written as uploads write it: `bytes` through a `SpoolWriter` under `dir`; its path and SHA-256.
    func spooled(_ bytes: [UInt8], in dir: String) throws -> (path: String, sha256: String) {
        let writer = try SpoolWriter(directory: dir, limit: 1 << 30)
        try bytes.withUnsafeBytes { try writer.write($0) }
        return (writer.path, try writer.finish())
    }

    @Test("a spool that SpoolWriter hashed and synced is linked in place, its recorded SHA-256 reported, the folder synced")
    func recordedSpool() throws {
        try withRoot { root, _ in
            let bytes = (0..<(9 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) }  // past one write-back step
            let (spool, sha256) = try spooled(bytes, in: root + "/../spools")
            #expect(RecordedSHA256.recorded(at: spool) == sha256)
            let stored = try LocalDiskStorage(root: root).store(spoolPath: spool, length: Int64(bytes.count), fileName: "big.pdf",
                                                                contentType: "application/pdf", folder: ["New", "Folders"])
            #expect(stored.checksums["sha256"] == sha256 && sha256 == Sodium.hex(StreamingDigest.digest(.sha256, bytes)))
            var spoolStat = stat(), storedStat = stat()
            #expect(stat(spool, &spoolStat) == 0 && stat(root + "/" + stored.fileID, &storedStat) == 0)
            #expect(spoolStat.st_ino == storedStat.st_ino, "a hard link of the spool, not a copy")
            #expect(RecordedSHA256.recorded(at: root + "/" + stored.fileID) == sha256, "the record travels with the file")
        }
    }

    @Test("a record vouches only for the file as it was hashed: grown, touched or from another boot, the stored file is read back")
    func staleRecords() throws {
        try withRoot { root, _ in
            let storage = LocalDiskStorage(root: root)
            func store(_ spool: String) throws -> String? {
                let length = Int64(try Data(contentsOf: URL(fileURLWithPath: spool)).count)
                return try storage.store(spoolPath: spool, length: length, fileName: "f.pdf", contentType: "application/pdf", folder: ["S"]).checksums["sha256"]
            }
            func digest(_ path: String) throws -> String { Sodium.hex(StreamingDigest.digest(.sha256, Array(try Data(contentsOf: URL(fileURLWithPath: path))))) }

            let (grown, _) = try spooled(Array(repeating: 1, count: 5000), in: root + "/../spools")
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: grown))
            try handle.seekToEnd()
            try handle.write(contentsOf: Data([2, 3]))
            try handle.close()
            #expect(RecordedSHA256.recorded(at: grown) == nil)
            #expect(try store(grown) == (try digest(grown)))

            let (touched, recorded) = try spooled(Array(repeating: 4, count: 5000), in: root + "/../spools")
            try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSince1970: 1_000_000)], ofItemAtPath: touched)
            #expect(RecordedSHA256.recorded(at: touched) == nil)
            #expect(try store(touched) == recorded, "read back: the same bytes")

            let (otherBoot, _) = try spooled(Array(repeating: 5, count: 5000), in: root + "/../spools")
            var st = stat()
            #expect(stat(otherBoot, &st) == 0)
            let file = try #require(try SpoolFile.open(otherBoot))
            #expect(RecordedSHA256.set(RecordedSHA256.value(hex: String(repeating: "0", count: 64), st, boot: "another-boot"), on: file))
            file.close()
            #expect(RecordedSHA256.recorded(at: otherBoot) == nil)
            #expect(try store(otherBoot) == (try digest(otherBoot)))
        }
    }

    @Test("reachable: the account's folder, or before its first file the storage folder, is a directory that can be written; otherwise it says why")
    func reachability() throws {
        try withRoot { root, spool in
            #expect(LocalDiskStorage(root: root).whyUnreachable() == nil)
            #expect(LocalDiskStorage(root: root + "/7").whyUnreachable() == nil, "no file yet: its folder is made in the storage folder")
            #expect(LocalDiskStorage(root: root + "/gone/7").whyUnreachable()?.contains("cannot be reached") == true)
            #expect(LocalDiskStorage(root: spool).whyUnreachable()?.contains("is not a folder") == true)
            if getuid() != 0 {  // root may write anywhere
                try FileManager.default.setAttributes([.posixPermissions: 0o500], ofItemAtPath: root)
                defer { try? FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: root) }
                #expect(LocalDiskStorage(root: root).whyUnreachable()?.contains("cannot be written") == true)
            }
        }
    }
}
