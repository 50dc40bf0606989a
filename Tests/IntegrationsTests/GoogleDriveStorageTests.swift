import Curl
import Foundation
import Integrations
import Synchronization
import Testing
import TestSupport

/// Google Drive storage against the loopback fake of the Drive v3 endpoints.
@Suite("Google Drive storage")
struct GoogleDriveStorageTests {
    static let chunk: Int64 = 256 * 1024

    /// Tokens the fake accepts, and the tokens the provider is handed (the current one, and after
    /// a refresh the next).
    final class Tokens: Sendable {
        let valid: Mutex<Set<String>>
        let current = Mutex("token-1")
        let refreshes = Mutex(0)
        init(valid: Set<String>) { self.valid = Mutex(valid) }
        func token(_ refresh: Bool) -> String {
            guard refresh else { return current.withLock { $0 } }
            let n = refreshes.withLock { $0 += 1; return $0 }
            current.withLock { $0 = "token-\(n + 1)" }
            return current.withLock { $0 }
        }
    }

    /// The fake Drive, the tokens, the provider under test, and spool files removed at the end.
    final class Harness {
        let tokens: Tokens
        let drive: FakeDriveServer
        let provider: GoogleDriveStorage
        private var spools: [String] = []

        init(valid: Set<String> = ["token-1"]) throws {
            let tokens = Tokens(valid: valid)
            self.tokens = tokens
            drive = try FakeDriveServer(authorize: { token in tokens.valid.withLock { $0.contains(token) } })
            var retry = RetryPolicy()
            retry.baseDelaySeconds = 0.001
            provider = GoogleDriveStorage(apiURL: drive.apiURL, uploadURL: drive.uploadURL, client: try CurlClient(), chunkSize: GoogleDriveStorageTests.chunk,
                                          retry: retry, sleep: { _ in }, token: { tokens.token($0) })
        }

        deinit {
            drive.stop()
            spools.forEach { try? FileManager.default.removeItem(atPath: $0) }
        }

        /// Stores `bytes` (written to a spool file first) as `name` in `folder`.
        func store(_ bytes: [UInt8], as name: String, contentType: String = "text/plain", folder: [String] = []) throws -> StoredFile {
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("drive-\(UUID().uuidString)").path
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            spools.append(path)
            return try provider.store(spoolPath: path, length: Int64(bytes.count), fileName: name, contentType: contentType, folder: folder)
        }

        func bytes(of file: StoredFile) -> [UInt8]? { drive.items.first { $0.id == file.fileID }?.bytes }
    }

    func randomBytes(_ count: Int) -> [UInt8] {
        var generator = SeededGenerator(seed: UInt64(count))
        return (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }

    @Test("a file over two chunks arrives byte-for-byte in Intake/Portal/Client; folders are found again, not made twice; an empty file works")
    func chunkedUpload() throws {
        let h = try Harness()
        let bytes = randomBytes(Int(Self.chunk) * 2 + 1234)
        let stored = try h.store(bytes, as: "report.pdf", contentType: "application/pdf", folder: ["Tax documents", "Ada Client"])
        #expect(stored.path == "Intake/Tax documents/Ada Client/report.pdf" && stored.size == Int64(bytes.count))
        #expect(h.bytes(of: stored) == bytes && h.drive.items.first { $0.id == stored.fileID }?.mimeType == "application/pdf")
        #expect(h.drive.path(of: stored.fileID) == ["Intake", "Tax documents", "Ada Client", "report.pdf"])
        #expect(h.drive.chunkPuts == 3 && h.drive.statusQueries == 0)

        let empty = try h.store([], as: "empty.txt", folder: ["Tax documents", "Bob"])
        #expect(h.bytes(of: empty) == [])
        let folders = h.drive.items.filter { $0.mimeType == GoogleDriveStorage.folderMimeType }.map(\.name).sorted()
        #expect(folders == ["Ada Client", "Bob", "Intake", "Tax documents"])
        #expect(h.tokens.refreshes.withLock { $0 } == 0 && h.drive.unauthorizedCalls == 0)
    }

    @Test("after a 503, a dropped connection and a chunk only partly kept, the upload asks the session and resumes from its Range")
    func resumesFromRange() throws {
        let h = try Harness()
        let bytes = randomBytes(Int(Self.chunk) * 3)
        h.drive.failNextChunks([.status(503), .drop, .keepOnly(1000)])
        let stored = try h.store(bytes, as: "big.bin", folder: ["P"])
        #expect(h.bytes(of: stored) == bytes)
        // 503 and drop: each followed by a status query. The partly kept chunk answers 308 with
        // Range bytes=0-999, and sending goes on from byte 1000: three chunk PUTs cover the rest.
        #expect(h.drive.statusQueries == 2)
        #expect(h.drive.chunkPuts == 3 + 3)
    }

    @Test("a refused token is renewed once and the upload goes on; a token that stays refused is an error")
    func refreshesOn401() throws {
        let h = try Harness(valid: ["token-2"])
        let bytes = randomBytes(1000)
        let stored = try h.store(bytes, as: "a.txt")
        #expect(h.bytes(of: stored) == bytes)
        #expect(h.tokens.refreshes.withLock { $0 } == 1 && h.drive.unauthorizedCalls == 1)

        h.tokens.valid.withLock { $0 = [] }
        #expect(throws: StorageProviderError.self) { try h.store(bytes, as: "b.txt") }
        #expect(!h.drive.items.contains { $0.name == "b.txt" })
    }

    @Test("folder names with quotes and backslashes are found again")
    func quotedNames() throws {
        let h = try Harness()
        let first = try h.store([1, 2, 3], as: "1", folder: ["O'Brien \\ Co"])
        let second = try h.store([1, 2, 3], as: "2", folder: ["O'Brien \\ Co"])
        #expect(h.drive.path(of: first.fileID) == ["Intake", "O'Brien \\ Co", "1"])
        #expect(h.drive.items.filter { $0.mimeType == GoogleDriveStorage.folderMimeType }.count == 2)
        #expect(h.drive.items.first { $0.id == first.fileID }?.parent == h.drive.items.first { $0.id == second.fileID }?.parent)
    }

    @Test("delete removes the file; a file already gone is not an error")
    func delete() throws {
        let h = try Harness()
        let stored = try h.store([9], as: "x")
        try h.provider.delete(fileID: stored.fileID)
        #expect(h.bytes(of: stored) == nil)
        try h.provider.delete(fileID: stored.fileID)
    }
}
