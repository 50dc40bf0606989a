import Foundation
import Sodium
import Testing
@testable import Intake
import Spool

@Suite("Spooling")
struct UploadPartsTests {
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
