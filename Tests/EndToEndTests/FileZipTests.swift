import Checksums
import Database
import Foundation
import Testing
import TestSupport

/// The files page's zip with files in Google Drive: streamed from the provider into the
/// archive through nginx, every byte and CRC read back by Python's zipfile.
@Suite("Selected files as one zip, from Google Drive (fake provider)", .serialized,
       .enabled(if: integrationEnabled, "set INTAKE_INTEGRATION=1 (scripts/test does)"))
struct FileZipTests {
    @Test("two Drive files and a duplicate name: one zip, its length declared, each entry's bytes and CRC right; a disconnected account's file refuses the zip, naming it")
    func zipFromDrive() throws {
        let cloud = CloudUploadTests()
        let (server, google, owner, drive) = try cloud.connectedDrive()
        defer { server.stop(); google.stop(); drive.stop() }
        let visitor = try CloudUploadTests.Visitor(server)
        let scan = cloud.scan()
        let notes = Array("first notes\n".utf8), again = Array("second notes, same name\n".utf8)
        for (name, bytes) in [("scan.pdf", scan), ("notes.txt", notes), ("notes.txt", again)] {
            #expect(try visitor.upload(name, bytes).status == 200)
        }
        _ = try owner.get("/dashboard/files")
        let zip = try owner.post("/dashboard/files/zip", form: [("id", "1"), ("id", "2"), ("id", "3"), ("return_to", "/dashboard/files?q=")])
        #expect(zip.status == 200 && zip.headers["content-type"] == "application/zip", "\(zip.status) \(zip.text.prefix(300))")
        #expect(zip.headers["content-length"] == String(zip.body.count))
        #expect(zip.headers["content-disposition"]?.hasPrefix("attachment; filename=\"Intake files ") == true)
        #expect(zip.headers["x-content-type-options"] == "nosniff" && zip.headers["content-security-policy"]?.hasPrefix("sandbox") == true)
        let path = NSTemporaryDirectory() + "/intake-zip-\(UUID().uuidString).zip"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data(zip.body).write(to: URL(fileURLWithPath: path))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", """
            import sys, zipfile, hashlib
            z = zipfile.ZipFile(sys.argv[1])
            assert z.testzip() is None
            for i in z.infolist(): print(i.filename, i.file_size, hashlib.sha256(z.read(i)).hexdigest())
            """, path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let listing = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        func line(_ name: String, _ bytes: [UInt8]) -> String {
            "\(name) \(bytes.count) " + StreamingDigest.digest(.sha256, bytes).map { String(format: "%02x", $0) }.joined()
        }
        #expect(process.terminationStatus == 0)
        #expect(listing == [line("scan.pdf", scan), line("notes.txt", notes), line("notes (2).txt", again)].joined(separator: "\n") + "\n")

        // The account disconnected: the zip is refused on the files page, naming the file.
        let db = try server.openDatabase()
        try db.execute("UPDATE storage_accounts SET status = 'DISCONNECTED'")
        let refused = try owner.post("/dashboard/files/zip", form: [("id", "2"), ("return_to", "/dashboard/files?q=notes")])
        #expect(refused.status == 303 && refused.headers["location"] == "/dashboard/files?q=notes", "\(refused.status)")
        let page = try owner.get("/dashboard/files?q=notes").text
        #expect(page.contains("No zip was made: “notes.txt” (its storage account is disconnected) cannot be read now."), "\(page)")
    }
}
