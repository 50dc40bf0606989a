import CSystem
import Sodium
#if canImport(Glibc)
import Glibc
#endif

/// The SHA-256 of a spool file's bytes, recorded on the file itself by the writer that hashed them
/// as it wrote them, so that whoever later stores that same file (the same inode, hard-linked into
/// local-disk storage) knows its digest without reading it all again.
///
/// Kept in the extended attribute `user.intake.sha256` as `v1 <hex> <size> <mtime> <boot id>`. It
/// vouches for the file only while the file is in the state it was hashed in: the same size, the
/// same modification time (every write(2) and truncate(2) sets it), and the same boot of this
/// host (after a crash or a restart the bytes come back from the disk, not from what was written,
/// so they are read again). Where the file system keeps no extended attributes nothing is
/// recorded, and readers read.
public enum RecordedSHA256 {
    static let attribute = "user.intake.sha256"

    /// This boot of the host (/proc/sys/kernel/random/boot_id: "a random UUID generated anew at
    /// each boot"), read once; nil where there is none, and then nothing is recorded or believed.
    static let boot: String? = {
        guard let file = try? SpoolFile.openForReading("/proc/sys/kernel/random/boot_id") else { return nil }
        defer { file.close() }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64, alignment: 1)
        defer { buffer.deallocate() }
        guard let n = try? file.read(into: buffer), n > 0 else { return nil }
        let id = String(decoding: buffer[0..<n], as: UTF8.self).filter { !$0.isWhitespace }
        return id.isEmpty ? nil : id
    }()

    /// What the record says of a file in the state `st`, for `hex`.
    static func value(hex: String, _ st: stat, boot: String) -> String {
        "v1 \(hex) \(st.st_size) \(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec) \(boot)"
    }

    /// Records `digest` (the SHA-256 of every byte of `file`, as written) on the file. Call it after
    /// the last write and before `sync()`, so the record reaches the disk with the bytes. False
    /// when it could not be recorded; nothing else changes then.
    @discardableResult
    public static func record(_ digest: [UInt8], on file: SpoolFile) -> Bool {
        guard digest.count == 32, let boot else { return false }
        var st = stat()
        guard fstat(file.descriptor, &st) == 0 else { return false }
        return set(value(hex: Sodium.hex(digest), st, boot: boot), on: file)
    }

    /// Writes `text` as the record of `file`.
    static func set(_ text: String, on file: SpoolFile) -> Bool {
        text.utf8CString.withUnsafeBytes { bytes in
            intake_set_attribute(file.descriptor, attribute, bytes.baseAddress!, bytes.count - 1) == 0
        }
    }

    /// The SHA-256 (hex) recorded on the file at `path`, when there is a record and it still
    /// vouches for the file as it is (same size, modification time and boot); nil otherwise.
    public static func recorded(at path: String) -> String? {
        guard let boot else { return nil }
        var st = stat()
        guard stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
        var buffer = [UInt8](repeating: 0, count: 256)
        let n = buffer.withUnsafeMutableBytes { intake_get_attribute(path, attribute, $0.baseAddress!, $0.count) }
        guard n > 0 else { return nil }
        let text = String(decoding: buffer[0..<n], as: UTF8.self)
        let parts = text.split(separator: " ")
        guard parts.count == 5, parts[0] == "v1", parts[1].utf8.count == 64 else { return nil }
        let hex = String(parts[1])
        return text == value(hex: hex, st, boot: boot) ? hex : nil
    }
}
