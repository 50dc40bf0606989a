import Checksums
import Foundation
import Sodium

/// Writes an incoming file to a new spool file while hashing it (SHA-256) and counting its bytes;
/// memory stays flat whatever the size. A file over its limit is refused as soon as it passes
/// it, and the spool is removed unless it was finished. Write-back to disk starts while the file
/// arrives, so the fsync at the end waits for little; the digest is recorded on the file
/// (`RecordedSHA256`) for the storage that takes the same file later. Past its first write-back
/// step, a file's bytes are written on a queue of their own (`WriteBehind`) while the next ones
/// are read and hashed.
public final class SpoolWriter {
    public let path: String
    public let limit: Int64
    public private(set) var size: Int64 = 0
    /// The first bytes, for the type check by magic number.
    public private(set) var head: [UInt8] = []
    /// How many first bytes are kept in `head`: the domain's `FileTypes.headLength` (a tar
    /// header's signature sits at offset 257).
    public static let headLength = 264
    private let hasher = StreamingDigest(.sha256)
    private let file: SpoolFile
    private var finished = false
    /// What is written and where write-back has been started up to (until `behind` takes over).
    private var writeBack = WriteBackSchedule(step: SpoolWriter.writebackStep)
    /// The writes of a file past `writebackStep`.
    private var behind: WriteBehind?

    /// How much is written before its write-back is started: the step a resumable upload uses.
    static let writebackStep: Int64 = 8 << 20

    /// The file grew past `limit` bytes.
    public struct TooLarge: Error, Equatable {
        public let limit: Int64
        public init(limit: Int64) { self.limit = limit }
    }

    /// Creates the spool file, under a random name, in `directory` (made, mode 0700, if missing).
    public init(directory: String, limit: Int64) throws {
        try Spool.makeFolder(directory)
        path = directory + "/" + Digest.base64URL(Sodium.randomBytes(18)) + ".spool"
        file = try SpoolFile.create(path)
        self.limit = limit
    }

    deinit {
        if !finished { abandon() }
    }

    /// Appends `bytes`, hashing them; throws `TooLarge` past the limit, `SpoolError` when the
    /// disk refuses them.
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard bytes.count > 0 else { return }
        size += Int64(bytes.count)
        guard size <= limit else { throw TooLarge(limit: limit) }
        if head.count < Self.headLength { head += bytes.prefix(Self.headLength - head.count) }
        hasher.update(bytes)
        if let behind {
            try behind.enqueue(bytes)
            return
        }
        try file.write(bytes)
        if writeBack.wrote(bytes.count, to: file) {
            // A file this large goes on writing behind the reads (a small one never waits for a
            // queue's thread).
            behind = WriteBehind(file: file, writeBack: writeBack)
        }
    }

    /// Records the SHA-256 on the file, flushes both to disk and returns the SHA-256 (hex). The
    /// spool stays until the caller removes it.
    public func finish() throws -> String {
        try behind?.drain()
        let digest = hasher.finish()
        RecordedSHA256.record(digest, on: file)
        try file.sync()
        file.close()
        finished = true
        return Sodium.hex(digest)
    }

    /// Closes and removes the spool (a refused or failed upload leaves nothing behind).
    public func abandon() {
        behind?.cancel()
        file.close()
        Spool.remove(path)
        finished = true
    }
}

/// When a file being written has its write-back started: each time `step` more bytes are in it
/// (`sync_file_range`, so the fsync at the end waits for little).
struct WriteBackSchedule {
    let step: Int64
    /// Bytes in the file.
    private(set) var written: Int64 = 0
    /// Where write-back has been started up to.
    private var flushedTo: Int64 = 0

    init(step: Int64) { self.step = step }

    /// Notes `count` more bytes written to `file`; true when that started a write-back.
    mutating func wrote(_ count: Int, to file: SpoolFile) -> Bool {
        written += Int64(count)
        guard written - flushedTo >= step else { return false }
        file.startWriteBack(offset: flushedTo, length: written - flushedTo)
        flushedTo = written
        return true
    }
}
