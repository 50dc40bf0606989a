import Checksums
import Foundation
import Testing
@testable import Zip

/// Python's zipfile reads what the writer wrote: every name, every byte, every CRC.
@Suite("A ZIP archive written as a stream")
struct ZipStreamWriterTests {
    /// Runs `script` with python3 and the archive's path as its argument; its output.
    func python(_ script: String, _ path: String) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, path]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    func temporaryPath(_ name: String) -> String {
        NSTemporaryDirectory() + "/zip-test-\(UUID().uuidString)-\(name)"
    }

    static let check = """
        import sys, zipfile, json, zlib
        z = zipfile.ZipFile(sys.argv[1])
        assert z.testzip() is None, "a CRC does not match"
        out = []
        for i in z.infolist():
            data = z.read(i)
            assert zlib.crc32(data) == i.CRC
            out.append({"name": i.filename, "size": len(data), "crc": i.CRC, "flags": i.flag_bits, "method": i.compress_type,
                        "date": list(i.date_time), "first": list(data[:4])})
        print(json.dumps(out))
        """

    @Test("three files, a UTF-8 name and a duplicate: read back byte for byte with their CRCs, flags 3 and 11, STORED; the length is known before")
    func smallArchive() throws {
        var names = ZipEntryNames()
        let files: [(String, [UInt8])] = [
            ("report.pdf", Array("%PDF-1.4 hello".utf8)),
            ("Straße 东京.txt", Array(repeating: 0xAB, count: 70_000)),
            ("Report.PDF", (0..<1000).map { UInt8($0 % 251) }),
        ]
        var archive: [UInt8] = []
        let writer = ZipStreamWriter { archive += $0 }
        let entries = files.map { ZipStreamWriter.Entry(name: names.unique($0.0), modified: 1_763_700_000, size: Int64($0.1.count)) }
        #expect(entries.map(\.name) == ["report.pdf", "Straße 东京.txt", "Report (2).PDF"])
        for (entry, file) in zip(entries, files) {
            // In uneven pieces, as a provider sends them.
            try writer.add(entry) { sink in
                var rest = file.1[...]
                while !rest.isEmpty {
                    let piece = rest.prefix(4093)
                    try Array(piece).withUnsafeBytes { try sink($0) }
                    rest = rest.dropFirst(piece.count)
                }
            }
        }
        try writer.finish()
        #expect(Int64(archive.count) == ZipStreamWriter.length(of: entries))
        #expect(writer.offset == Int64(archive.count))
        let path = temporaryPath("small.zip")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data(archive).write(to: URL(fileURLWithPath: path))
        let (status, output) = try python(Self.check, path)
        #expect(status == 0, "\(output)")
        let read = try JSONSerialization.jsonObject(with: Data(output.utf8)) as! [[String: Any]]
        #expect(read.map { $0["name"] as! String } == entries.map(\.name))
        #expect(read.map { $0["size"] as! Int } == files.map { $0.1.count })
        #expect(read.map { UInt32($0["crc"] as! Int) } == files.map { CRC32.of($0.1) })
        #expect(read.allSatisfy { ($0["flags"] as! Int) & 0x808 == 0x808 && ($0["method"] as! Int) == 0 })
        // 1_763_700_000 is 2025-11-21 04:40:00 UTC.
        #expect(read.first?["date"] as? [Int] == [2025, 11, 21, 4, 40, 0])
    }

    @Test("an entry whose bytes are not the size announced is refused, so the archive is never silently corrupt")
    func sizeMismatch() throws {
        let writer = ZipStreamWriter { _ in }
        #expect(throws: ZipStreamWriter.ZipError.sizeMismatch(name: "a", expected: 5, got: 3)) {
            try writer.add(.init(name: "a", modified: 0, size: 5)) { sink in try [UInt8]([1, 2, 3]).withUnsafeBytes { try sink($0) } }
        }
        #expect(throws: ZipStreamWriter.ZipError.sizeMismatch(name: "b", expected: 2, got: 3)) {
            try writer.add(.init(name: "b", modified: 0, size: 2)) { sink in try [UInt8]([1, 2, 3]).withUnsafeBytes { try sink($0) } }
        }
        #expect(throws: ZipStreamWriter.ZipError.badName("")) { try writer.add(.init(name: "", modified: 0, size: 0)) { _ in } }
    }

    /// The resident memory of this process, in bytes (Linux).
    func residentBytes() throws -> Int {
        let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") }!
        return Int(line.split(separator: " ")[1])! * 1024
    }

    @Test("past 4 GiB: a 4 GiB + 3 byte entry and one after it at an offset past 4 GiB get ZIP64 sizes, offsets and end records; Python reads both; memory stays flat",
          .enabled(if: ProcessInfo.processInfo.environment["INTAKE_SKIP_LARGE"] == nil))
    func zip64() throws {
        // The archive goes to a sparse file: the big entry's bytes are zeros, so its data is a
        // hole that is never written (the writer still sees and checksums every byte of it).
        let path = temporaryPath("large.zip")
        FileManager.default.createFile(atPath: path, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let file = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        var written: Int64 = 0
        let writer = ZipStreamWriter { piece in
            // The big entry's 1 MiB pieces are this test's zeros: left as a hole.
            if piece.count != 1 << 20 {
                try file.seek(toOffset: UInt64(written))
                file.write(Data(piece))
            }
            written += Int64(piece.count)
        }
        let big = Int64(4) << 30 + 3
        let entries = [ZipStreamWriter.Entry(name: "big.bin", modified: 1_763_700_000, size: big),
                       ZipStreamWriter.Entry(name: "after.txt", modified: 1_763_700_000, size: 5)]
        let chunk = [UInt8](repeating: 0, count: 1 << 20)
        let before = try residentBytes()
        var peak = before
        try writer.add(entries[0]) { sink in
            var left = big
            try chunk.withUnsafeBytes { buffer in
                while left > 0 {
                    let n = Int(min(left, Int64(buffer.count)))
                    try sink(UnsafeRawBufferPointer(rebasing: buffer[..<n]))
                    left -= Int64(n)
                    if left % (256 << 20) == 3 { peak = max(peak, try residentBytes()) }
                }
            }
        }
        try writer.add(entries[1]) { sink in try Array("after".utf8).withUnsafeBytes { try sink($0) } }
        try writer.finish()
        try file.truncate(atOffset: UInt64(written))
        try file.close()
        #expect(written == ZipStreamWriter.length(of: entries))
        // The process's resident size: the other suites run beside this one and allocate too, so
        // the bound is loose — but 4 GiB (or a large part of it) held anywhere would pass it.
        #expect(peak - before < 256 << 20, "memory grew by \(peak - before) bytes while 4 GiB passed")
        let (status, output) = try python("""
            import sys, zipfile, zlib
            z = zipfile.ZipFile(sys.argv[1])
            big, after = z.infolist()
            assert big.file_size == \(big), big.file_size
            assert after.header_offset > 0xFFFFFFFF, after.header_offset
            assert z.read("after.txt") == b"after"
            crc, n = 0, 0
            with z.open(big) as f:
                while True:
                    b = f.read(1 << 24)
                    if not b: break
                    crc = zlib.crc32(b, crc); n += len(b)
            assert n == big.file_size and crc == big.CRC, (n, crc, big.CRC)
            print("ok", big.CRC)
            """, path)
        #expect(status == 0 && output.hasPrefix("ok"), "\(output)")
    }

    @Test("many entries: past 65,535 the entry count is in the ZIP64 end record")
    func manyEntries() throws {
        var archive: [UInt8] = []
        let writer = ZipStreamWriter { archive += $0 }
        let entries = (0..<70_000).map { ZipStreamWriter.Entry(name: "f\($0)", modified: 0, size: 1) }
        for entry in entries { try writer.add(entry) { sink in try [UInt8(7)].withUnsafeBytes { try sink($0) } } }
        try writer.finish()
        #expect(Int64(archive.count) == ZipStreamWriter.length(of: entries))
        let path = temporaryPath("many.zip")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data(archive).write(to: URL(fileURLWithPath: path))
        let (status, output) = try python("import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); print(len(z.infolist()), z.read('f69999'))", path)
        #expect(status == 0 && output.hasPrefix("70000 b'\\x07'"), "\(output)")
    }

    @Test("MS-DOS times: 2-second steps, clamped to 1980")
    func dosTimes() {
        let (time, date) = ZipStreamWriter.dosTime(1_763_700_001)
        #expect(time == 4 << 11 | 40 << 5 | 0 && date == 45 << 9 | 11 << 5 | 21)
        #expect(ZipStreamWriter.dosTime(0).date == 0 << 9 | 1 << 5 | 1)
    }
}
