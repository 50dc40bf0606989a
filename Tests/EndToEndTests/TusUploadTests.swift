import Checksums
import Database
import Foundation
import Testing
import TestSupport

/// The tus 1.0 endpoints through nginx, byte by byte (tuspy, a client written by others, drives
/// them in Tests/Browser/test_tus.py).
@Suite("Resumable uploads (tus 1.0) through nginx into local disk", .serialized,
       .enabled(if: integrationEnabled, "set INTAKE_INTEGRATION=1 (scripts/test does)"))
struct TusUploadTests {
    let tus = ("Tus-Resumable", "1.0.0")
    let chunkType = ("Content-Type", "application/offset+octet-stream")

    func metadata(_ pairs: [(String, String)]) -> (String, String) {
        ("Upload-Metadata", pairs.map { "\($0.0) \(Data($0.1.utf8).base64EncodedString())" }.joined(separator: ","))
    }

    func create(_ server: IntakeTestServer, name: String, length: Int, extra: [(String, String)] = []) throws -> HTTPResult {
        try HTTPClient.request(port: server.port, method: "POST", path: "/api/tus/",
                               headers: [tus, ("Upload-Length", String(length)),
                                         metadata([("portalId", "1"), ("filename", name), ("filetype", "application/pdf"), ("clientName", "Ada")])] + extra)
    }

    func patch(_ server: IntakeTestServer, _ location: String, offset: Int, _ bytes: ArraySlice<UInt8>, extra: [(String, String)] = []) throws -> HTTPResult {
        try HTTPClient.request(port: server.port, method: "PATCH", path: location,
                               headers: [tus, chunkType, ("Upload-Offset", String(offset))] + extra, body: Array(bytes))
    }

    func head(_ server: IntakeTestServer, _ location: String) throws -> HTTPResult {
        try HTTPClient.request(port: server.port, method: "HEAD", path: location, headers: [tus])
    }

    func checksum(_ algorithm: StreamingDigest.Algorithm, _ name: String, _ bytes: ArraySlice<UInt8>) -> (String, String) {
        ("Upload-Checksum", "\(name) \(Data(StreamingDigest.digest(algorithm, Array(bytes))).base64EncodedString())")
    }

    /// HEAD until the offset is `expected` (a cut request is recorded when its worker notices).
    func waitForOffset(_ server: IntakeTestServer, _ location: String, _ expected: Int) throws -> Int {
        var offset = -1
        for _ in 0..<50 {
            offset = Int(try head(server, location).headers["upload-offset"] ?? "") ?? -1
            if offset == expected { break }
            usleep(100_000)
        }
        return offset
    }

    @Test("creation, chunks with sha1 and sha256 checksums, a wrong offset (409), a bad checksum (460), a chunk cut mid-way kept and resumed, then the file is on disk with its SHA-256 and counted once")
    func protocolWalk() throws {
        let server = try IntakeTestServer()
        defer { server.stop() }
        _ = try IntakeTestServer.run(IntakeTestServer.binary, ["demo-seed"], environment: server.environment)
        let db = try server.openDatabase()
        var rng = SystemRandomNumberGenerator()
        let bytes = Array("%PDF-1.7\n".utf8) + (0..<(3 * 1024 * 1024)).map { _ in UInt8.random(in: 0...255, using: &rng) }
        let mib = 1024 * 1024

        let options = try HTTPClient.request(port: server.port, method: "OPTIONS", path: "/api/tus/")
        #expect(options.status == 204 && options.headers["tus-version"] == "1.0.0")
        #expect(options.headers["tus-extension"] == "creation,creation-with-upload,termination,expiration,checksum")
        #expect(options.headers["tus-checksum-algorithm"] == "sha1,sha256,md5" && options.headers["tus-max-size"] != nil)
        #expect(try HTTPClient.request(port: server.port, method: "POST", path: "/api/tus/", headers: [("Upload-Length", "5")]).status == 412)

        let created = try create(server, name: "scan.pdf", length: bytes.count)
        #expect(created.status == 201 && created.headers["tus-resumable"] == "1.0.0" && created.headers["upload-expires"] != nil)
        let location = try #require(created.headers["location"])
        #expect(location.hasPrefix("/api/tus/") && location.count == "/api/tus/".count + 22)
        let fresh = try head(server, location)
        #expect(fresh.status == 200 && fresh.headers["upload-offset"] == "0" && fresh.headers["upload-length"] == String(bytes.count))
        #expect(fresh.headers["cache-control"] == "no-store" && fresh.headers["upload-metadata"]?.contains("filename c2Nhbi5wZGY=") == true)
        // The whole length is held against the quota from creation.
        #expect(try db.scalar("SELECT sum(bytes) FROM upload_reservations", as: Int.self) == bytes.count)

        let first = try patch(server, location, offset: 0, bytes[0..<mib], extra: [checksum(.sha1, "sha1", bytes[0..<mib])])
        #expect(first.status == 204 && first.headers["upload-offset"] == String(mib) && first.headers["intake-upload-status"] == "receiving")
        #expect(try patch(server, location, offset: 0, bytes[0..<10]).status == 409, "a chunk at a stale offset")
        let wrongSum = try patch(server, location, offset: mib, bytes[mib..<(2 * mib)], extra: [checksum(.sha256, "sha256", bytes[0..<10])])
        let afterWrongSum = try head(server, location).headers["upload-offset"]
        #expect(wrongSum.status == 460 && afterWrongSum == String(mib), "a chunk that fails its checksum is dropped whole")
        #expect(try patch(server, location, offset: mib, bytes[mib..<(mib + 10)], extra: [("Upload-Checksum", "crc32 AAAA")]).status == 400)

        // The connection drops after 300 KiB of a 1 MiB chunk: what arrived is kept.
        let kept = 300 * 1024
        try HTTPClient.cutRequest(port: server.port, method: "PATCH", path: location,
                                  headers: [tus, chunkType, ("Upload-Offset", String(mib))], declaredLength: mib, sent: Array(bytes[mib..<(mib + kept)]))
        let resumeAt = try waitForOffset(server, location, mib + kept)
        #expect(resumeAt == mib + kept)

        let last = try patch(server, location, offset: resumeAt, bytes[resumeAt...], extra: [checksum(.sha256, "sha256", bytes[resumeAt...])])
        #expect(last.status == 204 && last.headers["upload-offset"] == String(bytes.count) && last.headers["intake-upload-status"] == "uploaded")
        let uploadID = try #require(last.headers["intake-upload-id"].flatMap { Int($0) })
        let stored = try Data(contentsOf: URL(fileURLWithPath: server.home + "/storage/1/Intake/Demo uploads/scan.pdf"))
        #expect(stored == Data(bytes))
        let hex = StreamingDigest.digest(.sha256, bytes).map { String(format: "%02x", $0) }.joined()
        #expect(try db.scalar("SELECT sha256 FROM file_uploads WHERE id = $1", [uploadID], as: String.self) == hex)
        #expect(try db.scalar("SELECT client_name FROM file_uploads WHERE id = $1", [uploadID], as: String.self) == "Ada")
        // Counted once: usage is the file's size; nothing is still held; the spool is gone.
        #expect(try db.scalar("SELECT storage_used_bytes FROM users WHERE email = 'owner@example.com'", as: Int.self) == bytes.count)
        #expect(try db.scalar("SELECT count(*) FROM upload_reservations", as: Int.self) == 0)
        #expect(server.spoolFiles.isEmpty, "\(server.spoolFiles)")
        // A finished upload takes nothing more and cannot be terminated by its client.
        #expect(try patch(server, location, offset: bytes.count, []).status == 409)
        #expect(try HTTPClient.request(port: server.port, method: "DELETE", path: location, headers: [tus]).status == 409)
        let status = try server.get(location)
        #expect(status.status == 200 && status.text.contains(#""status":"uploaded""#) && status.text.contains(#""uploadId":"\#(uploadID)""#))
    }

    @Test("creation-with-upload, a second writer refused while the first holds the upload (423), termination, and the portal's limits checked at creation")
    func creationLocksAndTermination() throws {
        let server = try IntakeTestServer()
        defer { server.stop() }
        _ = try IntakeTestServer.run(IntakeTestServer.binary, ["demo-seed"], environment: server.environment)
        let db = try server.openDatabase()
        let bytes = Array("%PDF-1.7\n".utf8) + [UInt8](repeating: 7, count: 100_000)

        // The first chunk rides on the creation.
        let created = try HTTPClient.request(port: server.port, method: "POST", path: "/api/tus/",
                                             headers: [tus, chunkType, ("Upload-Length", String(bytes.count)),
                                                       metadata([("portal", "demo"), ("filename", "a.pdf"), ("clientName", "Bo")])], body: Array(bytes[0..<40_000]))
        #expect(created.status == 201 && created.headers["upload-offset"] == "40000", "\(created.status) \(created.text)")
        let location = try #require(created.headers["location"])

        // A slow writer holds the upload; a second one at the same offset is told to wait.
        let slow = Thread {
            _ = try? HTTPClient.slowRequest(port: server.port, method: "PATCH", path: location,
                                            headers: [self.tus, self.chunkType, ("Upload-Offset", "40000")],
                                            pieces: [Array(bytes[40_000..<50_000]), Array(bytes[50_000..<60_000])], pause: 1.0)
        }
        slow.start()
        usleep(1_500_000)
        #expect(try patch(server, location, offset: 40_000, bytes[40_000..<41_000]).status == 423)
        #expect(try HTTPClient.request(port: server.port, method: "DELETE", path: location, headers: [tus]).status == 423, "nor terminated under it")
        #expect(try waitForOffset(server, location, 60_000) == 60_000)

        // Termination: the bytes, the reservation and the upload go.
        #expect(try HTTPClient.request(port: server.port, method: "DELETE", path: location, headers: [tus]).status == 204)
        #expect(try head(server, location).status == 404)
        #expect(try db.scalar("SELECT count(*) FROM upload_reservations", as: Int.self) == 0)
        #expect(server.spoolFiles.isEmpty, "\(server.spoolFiles)")
        #expect(try db.scalar("SELECT storage_used_bytes FROM users WHERE email = 'owner@example.com'", as: Int.self) == 0)

        // Refused at creation, before a byte is sent: too large, a refused type, no such portal, bad metadata.
        let huge = try create(server, name: "big.pdf", length: 3 * 1024 * 1024 * 1024)
        #expect(huge.status == 413 && huge.text.contains("larger than"))
        // (the demo portal takes any type until it is narrowed, as here to documents)
        _ = try db.execute("UPDATE portals SET allowed_families = 'documents' WHERE slug = 'demo'")
        let exe = try create(server, name: "tool.exe", length: 10)
        #expect(exe.status == 400 && exe.text.contains("“tool.exe”: .exe files are not accepted here. This portal accepts documents."))
        #expect(try HTTPClient.request(port: server.port, method: "POST", path: "/api/tus/",
                                       headers: [tus, ("Upload-Length", "1"), metadata([("portalId", "99"), ("filename", "x.pdf")])]).status == 404)
        #expect(try HTTPClient.request(port: server.port, method: "POST", path: "/api/tus/",
                                       headers: [tus, ("Upload-Length", "1"), ("Upload-Metadata", "filename !!notbase64")]).status == 400)
        #expect(try head(server, "/api/tus/AAAAAAAAAAAAAAAAAAAAAA").status == 404)
        #expect(try db.scalar("SELECT count(*) FROM tus_uploads", as: Int.self) == 0)
        // A browser on another site cannot start one.
        #expect(try create(server, name: "x.pdf", length: 1, extra: [("Origin", "https://evil.example")]).status == 403)
    }
}
