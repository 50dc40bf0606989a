import Checksums
import Curl
import Foundation
@testable import Integrations
import Sodium
import Synchronization
import Testing
import TestSupport

/// Dropbox storage against the loopback fake of the Dropbox v2 upload-session endpoints.
@Suite("Dropbox storage")
struct DropboxStorageTests {
    static let chunk: Int64 = 4 * 1024 * 1024
    typealias Fixture = ProviderFixture<FakeDropboxServer>

    func fixture(valid: Set<String> = ["token-1"], keepAlive: Bool = false) throws -> Fixture {
        try Fixture(valid: valid, fake: { try FakeDropboxServer(keepAlive: keepAlive, authorize: $0) }) { dropbox, client, retry, sleep, token in
            DropboxStorage(apiURL: dropbox.url, contentURL: dropbox.url, client: client, chunkSize: Self.chunk, retry: retry,
                           sleep: sleep, token: token)
        }
    }

    @Test("a file over two chunks arrives byte-for-byte under /Intake; the same name again is renamed, not overwritten; non-ASCII names and empty files work")
    func sessionUpload() throws {
        let f = try fixture()
        let bytes = randomBytes(Int(Self.chunk) * 2 + 100)
        let stored = try f.store(bytes, as: "report.pdf", folder: ["Tax documents", "Ada Client"])
        #expect(stored.path == "Intake/Tax documents/Ada Client/report.pdf" && stored.size == Int64(bytes.count))
        #expect(f.fake.file(stored)?.bytes == bytes && f.fake.chunkCalls == 3)
        let again = try f.store([1, 2, 3], as: "report.pdf", folder: ["Tax documents", "Ada Client"])
        #expect(again.path == "Intake/Tax documents/Ada Client/report (2).pdf" && f.fake.file(stored)?.bytes == bytes)
        let accented = try f.store([4], as: "Résumé ✓.pdf", folder: ["Zoë/Co"])
        #expect(f.fake.file(accented)?.path == "/Intake/Zoë_Co/Résumé ✓.pdf")
        let empty = try f.store([], as: "empty.txt")
        #expect(f.fake.file(empty)?.bytes == [])
    }

    @Test("after a 503, a dropped connection, a chunk partly kept before a drop, and a 429, the upload goes on from the offset Dropbox holds; Retry-After is honoured")
    func resumesFromCorrectOffset() throws {
        let f = try fixture()
        let bytes = randomBytes(Int(Self.chunk) * 3)
        f.fake.failNextChunks([.status(503), .drop, .keepOnlyThenDrop(1000), .status(429)])
        let stored = try f.store(bytes, as: "big.bin")
        #expect(f.fake.file(stored)?.bytes == bytes)
        #expect(f.fake.incorrectOffsets == 1)
        // The 429's Retry-After (2 seconds) is the pause taken before that chunk is sent again.
        #expect(f.pauses.all.contains(2))
    }

    @Test("a refused token is renewed once and the upload goes on; a token that stays refused is an error")
    func refreshesOn401() throws {
        let f = try fixture(valid: ["token-2"])
        let stored = try f.store([7, 7, 7], as: "a.txt")
        #expect(f.fake.file(stored)?.bytes == [7, 7, 7] && f.tokens.refreshes.withLock { $0 } == 1)
        f.tokens.valid.withLock { $0 = [] }
        #expect(throws: StorageProviderError.self) { try f.store([8], as: "b.txt") }
        #expect(!f.fake.files.contains { $0.path.hasSuffix("b.txt") })
    }

    @Test("delete removes the file; a file already gone is not an error")
    func delete() throws {
        let f = try fixture()
        let stored = try f.store([9], as: "x")
        try f.provider.delete(fileID: stored.fileID)
        #expect(f.fake.file(stored) == nil)
        try f.provider.delete(fileID: stored.fileID)
    }

    @Test("downloads stream the content, resume with Range after a cut, renew a refused token; a deleted file has no size")
    func download() throws {
        try fixture(valid: ["token-1", "token-2"]).checkDownloads()
    }

    @Test("a transfer stopped after its first chunk is resumed from the saved session and offset, no new session; the content hash reported")
    func resumesSavedSession() throws {
        let f = try fixture()
        let bytes = randomBytes(Int(Self.chunk) * 3)
        let checkpoints = Checkpoints()
        f.fake.failNextChunks([.pass, .status(400)])
        #expect(throws: StorageProviderError.self) { try f.store(bytes, as: "r.bin", checkpoints: checkpoints) }
        let saved = try #require(checkpoints.all.last)
        #expect(saved.provider == "dropbox" && saved.offset == Self.chunk)
        let stored = try f.store(bytes, as: "r.bin", resume: saved)
        #expect(f.fake.file(stored)?.bytes == bytes && f.fake.sessionsStarted == 1)
        let hash = DropboxContentHash()
        bytes.withUnsafeBytes { hash.update($0) }
        #expect(stored.checksums["dropbox-content-hash"] == Sodium.hex(hash.finish()))
    }

    @Test("the answer to finish is lost: the file found at its path with the same content hash is taken — one copy, not two")
    func lostFinishAnswer() throws {
        let f = try fixture()
        let bytes = randomBytes(Int(Self.chunk) + 1000)
        f.fake.failNextChunks([.pass, .answerLost])
        let stored = try f.store(bytes, as: "once.bin")
        #expect(f.fake.file(stored)?.bytes == bytes)
        #expect(f.fake.files.count == 1 && f.fake.sessionsStarted == 1, "\(f.fake.files.map(\.path))")
    }

    @Test("upload_session/start (no body) and an empty file's finish say Content-Length: 0, which some front ends require (411 without)")
    func bodilessCallsSayLength() throws {
        let f = try fixture()
        let stored = try f.store([1, 2, 3], as: "small.txt")
        let empty = try f.store([], as: "empty.txt")
        #expect(f.fake.file(stored)?.bytes == [1, 2, 3] && f.fake.file(empty)?.bytes == [])
        #expect(f.fake.sessionsStarted == 2 && f.fake.lengthRefusals == 0)
    }

    @Test("a kept-alive connection dropped after the chunk was read: libcurl rewinds the spool and sends the chunk again itself")
    func rewindsAfterDroppedAnswer() throws {
        let f = try fixture(keepAlive: true)
        let bytes = randomBytes(Int(Self.chunk) * 2 + 10)
        f.fake.failNextChunks([.pass, .drop])
        let stored = try f.store(bytes, as: "rewound.bin")
        #expect(f.fake.file(stored)?.bytes == bytes)
        #expect(f.fake.chunkCalls == 4 && f.fake.incorrectOffsets == 0 && f.pauses.all.isEmpty)
    }

    // Found by scripts/fuzz provider-answers: `int64Value` cut 8.88608 to 8, and turned 1e30 into
    // Int64.min, from which the next chunk's length overflowed (a crash of the worker).
    @Test("incorrect_offset is taken only as a whole number of bytes from 0 to Int64.max", arguments: [
        (#"{"error":{".tag":"incorrect_offset","correct_offset":8388608}}"#, 8_388_608),
        (#"{"error":{".tag":"lookup_failed","lookup_failed":{".tag":"incorrect_offset","correct_offset":0}}}"#, 0),
        (#"{"error":{".tag":"incorrect_offset","correct_offset":9223372036854775807}}"#, Int64.max),
        (#"{"error":{".tag":"incorrect_offset","correct_offset":8.88608}}"#, nil),
        (#"{"error":{".tag":"incorrect_offset","correct_offset":1e30}}"#, nil),
        (#"{"error":{".tag":"incorrect_offset","correct_offset":-4194304}}"#, nil),
        (#"{"error":{".tag":"incorrect_offset","correct_offset":true}}"#, nil),
        (#"{"error":{".tag":"incorrect_offset","correct_offset":"8388608"}}"#, nil),
        (#"{"error":{".tag":"not_found"}}"#, nil),
    ] as [(String, Int64?)])
    func correctOffset(body: String, offset: Int64?) {
        #expect(DropboxStorage.correctOffset(Array(body.utf8)) == offset)
    }
}
