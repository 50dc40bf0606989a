import Foundation
import Sodium
import Testing
@testable import Intake
import Spool

@Suite("File types and spooling")
struct UploadPartsTests {
    @Test("type by extension and by magic bytes", arguments: [
        ("report.PDF", Array("%PDF-1.7\n".utf8), Set<String>(), true),
        ("photo.jpg", [0xFF, 0xD8, 0xFF, 0xE0], Set(["jpg", "png"]), true),
        ("virus.pdf", [0x4D, 0x5A, 0x90, 0x00], Set(), false),              // an executable renamed .pdf
        ("photo.png", Array("%PDF-".utf8), Set(["png"]), false),             // a PDF renamed .png
        ("notes.txt", Array("hello\n".utf8), Set(), true),
        ("notes.txt", [0x00, 0x01, 0x02], Set(), false),                      // binary posing as text
        ("tool.exe", [0x4D, 0x5A], Set(), false),                             // unknown kind
        ("report.pdf", Array("%PDF-".utf8), Set(["png"]), false),            // not allowed by the portal
        ("README", Array("text".utf8), Set(), false),                         // no extension
    ] as [(String, [UInt8], Set<String>, Bool)])
    func types(name: String, head: [UInt8], allowed: Set<String>, accepted: Bool) {
        let result = FileTypes.check(fileName: name, head: head, allowedExtensions: allowed)
        if case .accepted = result { #expect(accepted, "\(name) was accepted") } else { #expect(!accepted, "\(name) was refused: \(result)") }
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
        #expect(hash == Sodium.hex(Digest.sha256(data)) && writer.size == 1_000_000 && writer.head == Array(data.prefix(16)))
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
