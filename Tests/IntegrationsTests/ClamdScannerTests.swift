import Foundation
import Integrations
import Testing
import TestSupport

/// Against a real clamd (Debian's clamav-daemon) with the repository's test signature.
@Suite("clamd scanner", .serialized, .enabled(if: integrationEnabled, "needs clamd; scripts/test sets INTAKE_INTEGRATION=1"))
struct ClamdScannerTests {
    func file(_ bytes: [UInt8]) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("scan-\(UUID().uuidString)").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test("a clean file passes; the EICAR test file is found, even inside a larger file; a stopped clamd fails closed")
    func scan() throws {
        let clamd = try ClamdProcess()
        defer { clamd.stop(); clamd.removeDirectory() }
        let scanner = ClamdScanner(socketPath: clamd.socketPath)
        #expect(scanner.ping())
        let clean = try file(Array(repeating: UInt8(ascii: "a"), count: 600_000))
        let infected = try file(ClamdProcess.eicar)
        let hidden = try file(Array(repeating: 0x20, count: 300_000) + ClamdProcess.eicar + Array(repeating: 0x20, count: 300_000))
        defer { [clean, infected, hidden].forEach { try? FileManager.default.removeItem(atPath: $0) } }
        #expect(try scanner.scan(path: clean, length: 600_000) == .clean)
        guard case .infected(let name) = try scanner.scan(path: infected, length: Int64(ClamdProcess.eicar.count)) else {
            Issue.record("EICAR not found"); return
        }
        #expect(name.hasPrefix("Intake.Test.EICAR"))
        if case .clean = try scanner.scan(path: hidden, length: 600_000 + Int64(ClamdProcess.eicar.count)) { Issue.record("EICAR across chunks not found") }
        clamd.stop()
        #expect(!scanner.ping())
        #expect(throws: ScannerUnavailable.self) { try scanner.scan(path: clean, length: 600_000) }
    }
}
