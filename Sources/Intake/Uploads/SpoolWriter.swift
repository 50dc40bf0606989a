import Checksums
import Foundation
import Sodium
#if canImport(Glibc)
import Glibc
#endif

/// Writes an incoming file to a spool file while hashing it (SHA-256) and counting its bytes;
/// memory stays flat whatever the size. A file over its limit is refused as soon as it passes
/// it, and the spool is removed on any failure.
public final class SpoolWriter {
    public let path: String
    public let limit: Int64
    public private(set) var size: Int64 = 0
    /// The first bytes, for the type check by magic number.
    public private(set) var head: [UInt8] = []
    private let hasher = StreamingDigest(.sha256)
    private var fd: Int32
    private var finished = false

    public struct TooLarge: Error, Equatable {
        public let limit: Int64
    }

    /// Creates the spool file (mode 0600) in `directory`.
    public init(directory: String, limit: Int64) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        path = directory + "/" + Digest.base64URL(Sodium.randomBytes(18)) + ".spool"
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        self.limit = limit
        guard fd >= 0 else { throw ValidationError("", "The upload could not be stored (errno \(errno)).") }
    }

    deinit {
        if !finished { abandon() }
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard bytes.count > 0 else { return }
        size += Int64(bytes.count)
        guard size <= limit else { throw TooLarge(limit: limit) }
        if head.count < 16 { head += bytes.prefix(16 - head.count) }
        hasher.update(bytes)
        var offset = 0
        while offset < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            guard n > 0 else { throw ValidationError("", "The upload could not be stored (errno \(errno)): is the disk full?") }
            offset += n
        }
    }

    /// Flushes to disk and returns the SHA-256 (hex). The spool stays until the caller removes it.
    public func finish() throws -> String {
        guard fsync(fd) == 0 else { throw ValidationError("", "The upload could not be stored (fsync errno \(errno)).") }
        close(fd)
        fd = -1
        finished = true
        return Sodium.hex(hasher.finish())
    }

    /// Closes and removes the spool (a refused or failed upload leaves nothing behind).
    public func abandon() {
        if fd >= 0 { close(fd); fd = -1 }
        unlink(path)
        finished = true
    }
}
