import Curl
import Foundation
import Integrations
import Synchronization
import Testing
import TestSupport

/// Tokens a fake provider accepts, and the tokens the provider under test is handed (the current
/// one, and after a renewal the next).
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

/// The transfer states a provider reported, in order.
final class Checkpoints {
    var all: [ProviderSession] = []
}

/// The pauses a provider asked for, in order.
final class Pauses: Sendable {
    let values = Mutex<[Double]>([])
    var all: [Double] { values.withLock { $0 } }
}

protocol StoppableFake {
    func stop()
    func failNextDownloads(_ failures: [LoopbackResponse.Behaviour])
    var downloadRanges: [String?] { get }
}
extension FakeDriveServer: StoppableFake {
    func bytes(of stored: StoredFile) -> [UInt8]? { items.first { $0.id == stored.fileID }?.bytes }
}
extension FakeDropboxServer: StoppableFake {
    func file(_ stored: StoredFile) -> File? { files.first { $0.id == stored.fileID } }
}

/// A fake provider checking `tokens`, the storage under test pointed at it (retries without
/// waiting), and spool files removed at the end.
final class ProviderFixture<Fake: StoppableFake> {
    let tokens: Tokens
    let fake: Fake
    let provider: StorageProvider
    /// Every pause the provider asked for (none is really taken).
    let pauses = Pauses()
    private var spools: [String] = []

    init(valid: Set<String> = ["token-1"], fake makeFake: (@escaping @Sendable (String) -> Bool) throws -> Fake,
         provider makeProvider: (Fake, CurlClient, RetryPolicy, @escaping @Sendable (Double) -> Void,
                                 @escaping (Bool) throws -> String) -> StorageProvider) throws {
        let tokens = Tokens(valid: valid)
        self.tokens = tokens
        fake = try makeFake { token in tokens.valid.withLock { $0.contains(token) } }
        var retry = RetryPolicy()
        retry.baseDelaySeconds = 0.001
        let pauses = self.pauses
        provider = makeProvider(fake, try CurlClient(), retry, { wait in pauses.values.withLock { $0.append(wait) } }) { tokens.token($0) }
    }

    deinit {
        fake.stop()
        spools.forEach { try? FileManager.default.removeItem(atPath: $0) }
    }

    /// Stores `bytes` (written to a spool file first) as `name` in `folder`, resuming `resume`;
    /// every checkpoint the provider reports is appended to `checkpoints`.
    func store(_ bytes: [UInt8], as name: String, contentType: String = "text/plain", folder: [String] = [],
               resume: ProviderSession? = nil, checkpoints: Checkpoints? = nil) throws -> StoredFile {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("provider-\(UUID().uuidString)").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        spools.append(path)
        return try provider.store(spoolPath: path, length: Int64(bytes.count), fileName: name, contentType: contentType, folder: folder,
                                  resume: resume) { session in checkpoints?.all.append(session) }
    }

    /// The stored file's bytes as `download` streams them.
    func download(_ stored: StoredFile) throws -> [UInt8] {
        var out: [UInt8] = []
        try provider.download(fileID: stored.fileID, length: stored.size) { out.append(contentsOf: $0) }
        return out
    }

    /// What every provider's download must do: the size is known; cut short twice, the download
    /// resumes with `Range` from the first byte not yet delivered, each byte delivered once; a
    /// connection dropped before any byte starts over; a refused token is renewed once; a deleted
    /// file has no size. The fixture must accept `token-2` as well.
    func checkDownloads() throws {
        let bytes = randomBytes(300_000)
        let stored = try store(bytes, as: "download.bin")
        #expect(try provider.size(fileID: stored.fileID) == 300_000)
        #expect(try download(stored) == bytes)
        fake.failNextDownloads([.drop, .cutAfter(100_000), .cutAfter(50_000)])
        #expect(try download(stored) == bytes)
        #expect(fake.downloadRanges == [nil, nil, nil, "bytes=100000-", "bytes=150000-"])
        #expect(pauses.all.count == 3)

        tokens.valid.withLock { $0 = ["token-2"] }
        #expect(try download(stored) == bytes)
        #expect(tokens.refreshes.withLock { $0 } == 1)

        try provider.delete(fileID: stored.fileID)
        #expect(try provider.size(fileID: stored.fileID) == nil)
        #expect(throws: StorageProviderError.self) { try self.download(stored) }
        #expect(try download(store([], as: "empty.bin")) == [])
    }
}

/// The same bytes for the same length, so a failure can be replayed.
func randomBytes(_ count: Int) -> [UInt8] {
    var generator = SeededGenerator(seed: UInt64(count))
    return (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
}
