import Checksums
import Sodium
#if canImport(Glibc)
import Glibc
#endif

/// Digests of a spool file computed in one read, for the checksums providers report: MD5 (Google
/// Drive) and Dropbox's content hash, each in hex, each only when asked for.
public enum SpoolDigests {
    public static func compute(path: String, md5: Bool, dropboxContentHash: Bool) throws -> (md5: String?, dropboxContentHash: String?) {
        guard let file = try SpoolFile.openForReading(path) else { throw SpoolError(code: ENOENT, function: "open", path: path) }
        defer { file.close() }
        let md5Digest = md5 ? StreamingDigest(.md5) : nil
        let content = dropboxContentHash ? DropboxContentHash() : nil
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 256 * 1024, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let n = try file.read(into: buffer)
            if n == 0 { break }
            let piece = UnsafeRawBufferPointer(rebasing: buffer[0..<n])
            md5Digest?.update(piece)
            content?.update(piece)
        }
        return (md5Digest.map { Sodium.hex($0.finish()) }, content.map { Sodium.hex($0.finish()) })
    }
}
