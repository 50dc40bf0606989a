import Checksums
import Curl
import Foundation
@testable import Integrations
import Sodium
import Synchronization
import Testing
import TestSupport

/// Google Drive storage against the loopback fake of the Drive v3 endpoints.
@Suite("Google Drive storage")
struct GoogleDriveStorageTests {
    static let chunk: Int64 = 256 * 1024

    typealias Harness = ProviderFixture<FakeDriveServer>

    func harness(valid: Set<String> = ["token-1"], keepAlive: Bool = false) throws -> Harness {
        try Harness(valid: valid, fake: { try FakeDriveServer(keepAlive: keepAlive, authorize: $0) }) { drive, client, retry, sleep, token in
            GoogleDriveStorage(apiURL: drive.apiURL, uploadURL: drive.uploadURL, client: client, chunkSize: Self.chunk, retry: retry,
                               sleep: sleep, token: token)
        }
    }

    @Test("a file over two chunks arrives byte-for-byte in Intake/Portal/Client; folders are found again, not made twice; an empty file works")
    func chunkedUpload() throws {
        let h = try harness()
        let bytes = randomBytes(Int(Self.chunk) * 2 + 1234)
        let stored = try h.store(bytes, as: "report.pdf", contentType: "application/pdf", folder: ["Tax documents", "Ada Client"])
        #expect(stored.path == "Intake/Tax documents/Ada Client/report.pdf" && stored.size == Int64(bytes.count))
        #expect(h.fake.bytes(of: stored) == bytes && h.fake.items.first { $0.id == stored.fileID }?.mimeType == "application/pdf")
        #expect(h.fake.path(of: stored.fileID) == ["Intake", "Tax documents", "Ada Client", "report.pdf"])
        #expect(h.fake.chunkPuts == 3 && h.fake.statusQueries == 0)

        let empty = try h.store([], as: "empty.txt", folder: ["Tax documents", "Bob"])
        #expect(h.fake.bytes(of: empty) == [])
        let folders = h.fake.items.filter { $0.mimeType == GoogleDriveStorage.folderMimeType }.map(\.name).sorted()
        #expect(folders == ["Ada Client", "Bob", "Intake", "Tax documents"])
        #expect(h.tokens.refreshes.withLock { $0 } == 0 && h.fake.unauthorizedCalls == 0)
    }

    @Test("after a 503, a dropped connection, a chunk only partly kept and a 429, the upload asks the session and resumes from its Range; Retry-After is honoured")
    func resumesFromRange() throws {
        let h = try harness()
        let bytes = randomBytes(Int(Self.chunk) * 3)
        h.fake.failNextChunks([.status(503), .drop, .keepOnly(1000), .status(429)])
        let stored = try h.store(bytes, as: "big.bin", folder: ["P"])
        #expect(h.fake.bytes(of: stored) == bytes)
        // 503 and drop: each followed by a status query. The partly kept chunk answers 308 with
        // Range bytes=0-999, and sending goes on from byte 1000: three chunk PUTs cover the rest.
        #expect(h.fake.statusQueries == 3)
        #expect(h.fake.chunkPuts == 3 + 4)
        // Backoff for the 503 and the drop; exactly the 2 seconds Drive asked for after the 429.
        let pauses = h.pauses.all
        #expect(pauses.count == 3 && pauses.last == 2)
    }

    @Test("a refused token is renewed once and the upload goes on; a token that stays refused is an error")
    func refreshesOn401() throws {
        let h = try harness(valid: ["token-2"])
        let bytes = randomBytes(1000)
        let stored = try h.store(bytes, as: "a.txt")
        #expect(h.fake.bytes(of: stored) == bytes)
        #expect(h.tokens.refreshes.withLock { $0 } == 1 && h.fake.unauthorizedCalls == 1)

        h.tokens.valid.withLock { $0 = [] }
        #expect(throws: StorageProviderError.self) { try h.store(bytes, as: "b.txt") }
        #expect(!h.fake.items.contains { $0.name == "b.txt" })
    }

    @Test("folder names with quotes and backslashes are found again")
    func quotedNames() throws {
        let h = try harness()
        let first = try h.store([1, 2, 3], as: "1", folder: ["O'Brien \\ Co"])
        let second = try h.store([1, 2, 3], as: "2", folder: ["O'Brien \\ Co"])
        #expect(h.fake.path(of: first.fileID) == ["Intake", "O'Brien \\ Co", "1"])
        #expect(h.fake.items.filter { $0.mimeType == GoogleDriveStorage.folderMimeType }.count == 2)
        #expect(h.fake.items.first { $0.id == first.fileID }?.parent == h.fake.items.first { $0.id == second.fileID }?.parent)
    }

    @Test("delete removes the file; a file already gone is not an error")
    func delete() throws {
        let h = try harness()
        let stored = try h.store([9], as: "x")
        try h.provider.delete(fileID: stored.fileID)
        #expect(h.fake.bytes(of: stored) == nil)
        try h.provider.delete(fileID: stored.fileID)
    }

    @Test("downloads stream the content, resume with Range after a cut, renew a refused token; a deleted or trashed file has no size")
    func download() throws {
        let h = try harness(valid: ["token-1", "token-2"])
        try h.checkDownloads()
        let trashed = try h.store([1, 2], as: "t.txt")
        h.fake.trash(trashed.fileID)
        #expect(try h.provider.size(fileID: trashed.fileID) == nil)
    }

    @Test("a transfer stopped after its first chunk is resumed from the saved session: Drive is asked what it holds, no new session, the checksums reported")
    func resumesSavedSession() throws {
        let h = try harness()
        let bytes = randomBytes(Int(Self.chunk) * 3)
        let checkpoints = Checkpoints()
        h.fake.failNextChunks([.keepOnly(Int(Self.chunk)), .status(400)])
        #expect(throws: StorageProviderError.self) { try h.store(bytes, as: "r.bin", checkpoints: checkpoints) }
        let saved = try #require(checkpoints.all.last)
        #expect(saved.provider == "drive" && saved.url?.contains("upload_id=") == true)
        #expect(checkpoints.all.map(\.offset) == [0, Self.chunk], "the session at its start, then each chunk Drive took")
        let stored = try h.store(bytes, as: "r.bin", resume: saved)
        #expect(h.fake.bytes(of: stored) == bytes)
        #expect(h.fake.sessionsStarted == 1 && h.fake.statusQueries == 1)
        #expect(stored.checksums["sha256"] == Sodium.hex(StreamingDigest.digest(.sha256, bytes)))
        #expect(stored.checksums["md5"] == Sodium.hex(StreamingDigest.digest(.md5, bytes)))
    }

    @Test("the answer to the last chunk is lost: the session, asked, answers with the finished file — one copy, not two")
    func lostFinalAnswer() throws {
        let h = try harness()
        let bytes = randomBytes(Int(Self.chunk) * 2)
        h.fake.failNextChunks([.pass, .answerLost])
        let stored = try h.store(bytes, as: "once.bin")
        #expect(h.fake.bytes(of: stored) == bytes)
        #expect(h.fake.items.filter { $0.name == "once.bin" }.count == 1 && h.fake.sessionsStarted == 1 && h.fake.statusQueries == 1)
    }

    @Test("403 userRateLimitExceeded and rateLimitExceeded on a chunk are waited out like 429 (Retry-After honoured) and the same session goes on")
    func rateLimited403() throws {
        let h = try harness()
        let bytes = randomBytes(Int(Self.chunk) * 3)
        h.fake.failNextChunks([.forbidden(.userRateLimitExceeded), .pass, .forbidden(.rateLimitExceeded, retryAfter: 3)])
        let stored = try h.store(bytes, as: "limited.bin")
        #expect(h.fake.bytes(of: stored) == bytes)
        // Each refusal is followed by a status query, then the chunk again: 3 chunks + 2 repeats.
        #expect(h.fake.sessionsStarted == 1 && h.fake.statusQueries == 2 && h.fake.chunkPuts == 5)
        let pauses = h.pauses.all
        #expect(pauses.count == 2 && pauses.last == 3, "backoff for the first, the 3 seconds Drive asked for the second: \(pauses)")
        #expect(h.tokens.refreshes.withLock { $0 } == 0)
    }

    @Test("a rate limit that outlasts the retries is a temporary failure (the file is kept for later), never a final one")
    func rateLimitOutlastsRetries() throws {
        let h = try harness()
        h.fake.failNextChunks(Array(repeating: .forbidden(.userRateLimitExceeded), count: 20))
        let error = try #require(throws: StorageProviderError.self) { try h.store(randomBytes(1000), as: "later.bin") }
        #expect(error.transient && !error.sessionLost, "\(error)")
        #expect(h.pauses.all.count == RetryPolicy().maxAttempts - 1)
    }

    @Test("403 storageQuotaExceeded is final at once, says the owner's Google Drive is full, and asks for no new token")
    func storageFull() throws {
        let h = try harness()
        h.fake.failNextChunks([.forbidden(.storageQuotaExceeded)])
        let error = try #require(throws: StorageProviderError.self) { try h.store(randomBytes(1000), as: "full.bin") }
        #expect(!error.transient && error.message.contains("Google Drive is full"), "\(error)")
        #expect(h.pauses.all.isEmpty && h.fake.chunkPuts == 1 && h.tokens.refreshes.withLock { $0 } == 0)
    }

    @Test("403 insufficientPermissions (the newer error shape) is final and says the account must be reconnected")
    func insufficientPermissions() throws {
        let h = try harness()
        h.fake.failNextChunks([.forbidden(.insufficientPermissions)])
        let error = try #require(throws: StorageProviderError.self) { try h.store(randomBytes(1000), as: "scope.bin") }
        #expect(!error.transient && error.message.contains("reconnect"), "\(error)")
        #expect(h.pauses.all.isEmpty && h.fake.chunkPuts == 1 && h.tokens.refreshes.withLock { $0 } == 0)
    }

    @Test("the status query (PUT with Content-Range: bytes */N and no body) says Content-Length: 0, which Google's front end requires (411 without)")
    func statusQueryLength() throws {
        let h = try harness()
        let bytes = randomBytes(Int(Self.chunk) + 10)
        h.fake.failNextChunks([.drop])
        let stored = try h.store(bytes, as: "asked.bin")
        #expect(h.fake.bytes(of: stored) == bytes)
        #expect(h.fake.statusQueries == 1 && h.fake.lengthRefusals == 0)
    }

    @Test("a kept-alive connection dropped after the chunk was read: libcurl rewinds the spool and sends the chunk again itself")
    func rewindsAfterDroppedAnswer() throws {
        let h = try harness(keepAlive: true)
        let bytes = randomBytes(Int(Self.chunk) * 3)
        h.fake.failNextChunks([.pass, .drop])
        let stored = try h.store(bytes, as: "rewound.bin")
        #expect(h.fake.bytes(of: stored) == bytes)
        // The dropped chunk came twice, the second time complete; nothing had to be asked or waited for.
        #expect(h.fake.chunkPuts == 4 && h.fake.statusQueries == 0 && h.pauses.all.isEmpty)
    }

    @Test("a session start refused with 403 userRateLimitExceeded is retried after a pause; one refused with storageQuotaExceeded is final, with the same message")
    func sessionStartRefusals() throws {
        let h = try harness()
        h.fake.refuseNextSessionStarts([.userRateLimitExceeded])
        let stored = try h.store([1, 2, 3], as: "late.txt")
        #expect(h.fake.bytes(of: stored) == [1, 2, 3] && h.pauses.all.count == 1)
        h.fake.refuseNextSessionStarts([.storageQuotaExceeded])
        let error = try #require(throws: StorageProviderError.self) { try h.store([4], as: "full.txt") }
        #expect(!error.transient && error.message.contains("Google Drive is full") && h.pauses.all.count == 1, "\(error)")
    }

    @Test("403 bodies read by every reason they give, old shape and new", arguments: [
        (403, #"{"error":{"errors":[{"domain":"usageLimits","reason":"userRateLimitExceeded","message":"User Rate Limit Exceeded"}],"code":403,"message":"User Rate Limit Exceeded"}}"#, "rate"),
        (403, #"{"error":{"errors":[{"domain":"usageLimits","reason":"rateLimitExceeded","message":"Rate Limit Exceeded"}],"code":403,"message":"Rate Limit Exceeded"}}"#, "rate"),
        (403, #"{"error":{"code":403,"message":"Quota exceeded","status":"PERMISSION_DENIED","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"RATE_LIMIT_EXCEEDED"}]}}"#, "rate"),
        (403, #"{"error":{"errors":[{"domain":"usageLimits","reason":"storageQuotaExceeded","message":"The user's Drive storage quota has been exceeded."}],"code":403}}"#, "full"),
        (403, #"{"error":{"code":403,"errors":[{"domain":"global","reason":"insufficientPermissions"}],"status":"PERMISSION_DENIED","details":[{"reason":"ACCESS_TOKEN_SCOPE_INSUFFICIENT"}]}}"#, "reconnect"),
        (403, #"{"error":{"code":403,"status":"PERMISSION_DENIED","details":[{"reason":"ACCESS_TOKEN_SCOPE_INSUFFICIENT"}]}}"#, "reconnect"),
        (403, #"{"error":{"errors":[{"domain":"global","reason":"insufficientFilePermissions"}],"code":403,"status":"PERMISSION_DENIED"}}"#, "-"),
        (403, "<html>Forbidden</html>", "-"),
        (429, #"{"error":{"errors":[{"domain":"usageLimits","reason":"rateLimitExceeded"}],"code":429}}"#, "-"),
    ] as [(Int, String, String)])
    func refusals(status: Int, body: String, expected: String) {
        let refusal = GoogleDriveStorage.refusal(HTTPResponse(status: status, headers: [], body: Array(body.utf8)))
        let read: String = switch refusal {
        case .rateLimited?: "rate"
        case .storageFull?: "full"
        case .reconnect?: "reconnect"
        case nil: "-"
        }
        #expect(read == expected)
    }

    // Found by scripts/fuzz provider-answers: `Int64` alone took `bytes=0--08` as -7 bytes held, and
    // `bytes=0-9223372036854775807` overflowed to a crash.
    @Test("a 308's Range is read only as bytes=0-N with N plain digits below Int64.max", arguments: [
        ("bytes=0-1048575", 1_048_576), ("bytes=0-0", 1), ("bytes=0-007", 8), ("bytes=0-9223372036854775806", Int64.max),
        ("bytes=0--08", nil), ("bytes=0-+8", nil), ("bytes=0-", nil), ("bytes=0-8 ", nil), ("bytes=0-9223372036854775807", nil),
        ("bytes=0-99999999999999999999", nil), ("bytes=1-8", nil), (nil, nil),
    ] as [(String?, Int64?)])
    func persistedRange(header: String?, held: Int64?) {
        #expect(GoogleDriveStorage.persisted(header) == held)
    }
}
