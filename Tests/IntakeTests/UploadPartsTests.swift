import Foundation
import Sodium
import Testing
import TestSupport
@testable import Intake
@testable import Spool

@Suite("Spooling")
struct UploadPartsTests {
    @Test("a file past the first write-back step is written behind the reads: 20 MiB in pieces of every size hold their bytes in order, with their hash; abandoned half way, nothing is left")
    func writtenBehind() throws {
        try withTemporaryDirectory { dir in
            var generator = SeededGenerator(seed: 20)
            let data = (0..<(20 << 20)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let writer = try SpoolWriter(directory: dir, limit: Int64(data.count))
            var start = 0, step = 1
            while start < data.count {
                let end = min(data.count, start + step)
                try data[start..<end].withUnsafeBytes { try writer.write($0) }
                start = end
                step = step * 7 % 300_007 + 1  // 1 byte to some 300 KB, in no order
            }
            let hash = try writer.finish()
            #expect(hash == Sodium.hex(Digest.sha256(data)) && writer.size == Int64(data.count))
            #expect(try Data(contentsOf: URL(fileURLWithPath: writer.path)) == Data(data))

            let dropped = try SpoolWriter(directory: dir, limit: Int64(data.count))
            for piece in stride(from: 0, to: 12 << 20, by: 65536) {
                try data[piece..<(piece + 65536)].withUnsafeBytes { try dropped.write($0) }
            }
            try data[0..<100].withUnsafeBytes { try dropped.write($0) }  // a piece half gathered
            dropped.abandon()
            #expect(!FileManager.default.fileExists(atPath: dropped.path))
            #expect(throws: SpoolError.self, "an abandoned spool takes nothing more") { try data[0..<10].withUnsafeBytes { try dropped.write($0) } }
        }
    }

    @Test("a write behind the reads that fails is reported by the next write and by the end, and nothing after it is written")
    func writeBehindFailure() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/read-only"
            _ = try SpoolFile.create(path)
            // A descriptor open for reading only: every write fails (EBADF), as a full disk would.
            let file = try #require(try SpoolFile.openForReading(path))
            let behind = WriteBehind(file: file, writeBack: WriteBackSchedule(step: 8 << 20))
            let bytes = [UInt8](repeating: 7, count: 1 << 20)
            var refused: (any Error)?
            for _ in 0..<64 where refused == nil {
                do { try bytes.withUnsafeBytes { try behind.enqueue($0) } } catch { refused = error }
            }
            #expect(refused is SpoolError, "\(String(describing: refused))")
            #expect(throws: SpoolError.self) { try behind.drain() }
            #expect(throws: SpoolError.self) { try bytes.withUnsafeBytes { try behind.enqueue($0) } }
            #expect(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int == 0)
        }
    }

    @Test("the spool holds the bytes, the hash is the file's, the head is kept; too large stops at once and leaves nothing")
    func spool() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("intake-spool-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let data = (0..<1_000_000).map { UInt8($0 % 251) }
        let writer = try SpoolWriter(directory: dir, limit: 1_000_000)
        for start in stride(from: 0, to: data.count, by: 65536) {
            try data[start..<min(start + 65536, data.count)].withUnsafeBytes { try writer.write($0) }
        }
        let hash = try writer.finish()
        #expect(hash == Sodium.hex(Digest.sha256(data)) && writer.size == 1_000_000 && writer.head == Array(data.prefix(SpoolWriter.headLength)))
        #expect(try Data(contentsOf: URL(fileURLWithPath: writer.path)) == Data(data))
        let attributes = try FileManager.default.attributesOfItem(atPath: writer.path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)

        let small = try SpoolWriter(directory: dir, limit: 100)
        #expect(throws: SpoolWriter.TooLarge(limit: 100)) { try data.prefix(101).withUnsafeBytes { try small.write($0) } }
        small.abandon()
        #expect(!FileManager.default.fileExists(atPath: small.path))
        var leaked: String?
        do {
            let dropped = try SpoolWriter(directory: dir, limit: 10)
            leaked = dropped.path
        }
        #expect(leaked.map { !FileManager.default.fileExists(atPath: $0) } == true, "an unfinished spool is removed when dropped")
    }
}
