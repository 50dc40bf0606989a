import CSystem
#if canImport(Glibc)
import Glibc
#endif

/// One open spool file. The object owns its descriptor: `close()` ends it when the caller is done,
/// and `deinit` closes it if the caller never did, so it is closed exactly once whatever path the
/// caller takes. A lock taken with `tryLock()` lasts as long as the descriptor (flock(2) locks
/// belong to the open file description; the kernel also drops them when the process dies). A
/// caller that holds the lock across other work keeps the file alive with `defer { file.close() }`:
/// Swift may end an object's life at its last use, not at the end of its scope.
public final class SpoolFile {
    public let path: String
    private var fd: Int32

    private init(path: String, fd: Int32) {
        self.path = path
        self.fd = fd
    }

    deinit { close() }

    /// The descriptor, for this module's own system calls on the file (-1 once closed).
    var descriptor: Int32 { fd }

    /// Creates `path`, which must not exist yet (`O_EXCL`), readable and writable by this user only.
    public static func create(_ path: String) throws -> SpoolFile {
        let fd = try SpoolError.check("open", path) { Glibc.open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600) }
        return SpoolFile(path: path, fd: fd)
    }

    /// Opens an existing file for reading and writing; nil when there is none.
    public static func open(_ path: String) throws -> SpoolFile? {
        do {
            return SpoolFile(path: path, fd: try SpoolError.check("open", path) { Glibc.open(path, O_RDWR | O_CLOEXEC) })
        } catch let error as SpoolError where error.code == ENOENT {
            return nil
        }
    }

    /// Opens an existing file for reading; nil when there is none.
    public static func openForReading(_ path: String) throws -> SpoolFile? {
        do {
            return SpoolFile(path: path, fd: try SpoolError.check("open", path) { Glibc.open(path, O_RDONLY | O_CLOEXEC) })
        } catch let error as SpoolError where error.code == ENOENT {
            return nil
        }
    }

    /// Closes the descriptor (and so gives up its lock). Closing twice does nothing.
    public func close() {
        guard fd >= 0 else { return }
        // close(2) releases the descriptor even when it reports an error; it must not be retried.
        _ = Glibc.close(fd)
        fd = -1
    }

    /// Takes an exclusive lock without waiting (`flock(LOCK_EX | LOCK_NB)`): false when another
    /// open file description holds it, in this process or another.
    public func tryLock() throws -> Bool {
        do {
            try SpoolError.check("flock", path) { flock(fd, LOCK_EX | LOCK_NB) }
            return true
        } catch let error as SpoolError where error.code == EWOULDBLOCK {
            return false
        }
    }

    /// Cuts the file back (or extends it with zeros) to `length` bytes.
    public func truncate(to length: Int64) throws {
        try SpoolError.check("ftruncate", path) { ftruncate(fd, off_t(length)) }
    }

    /// Writes all of `bytes` at the end of what this descriptor has written so far.
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        var done = 0
        while done < bytes.count {
            let n = try SpoolError.check("write", path) { Glibc.write(fd, bytes.baseAddress! + done, bytes.count - done) }
            // A regular file only writes nothing when there is no room.
            guard n > 0 else { throw SpoolError(code: ENOSPC, function: "write", path: path) }
            done += n
        }
    }

    /// Writes all of `bytes` at `offset`, whatever the descriptor's position (`pwrite`).
    public func write(_ bytes: UnsafeRawBufferPointer, at offset: Int64) throws {
        var done = 0
        while done < bytes.count {
            let n = try SpoolError.check("pwrite", path) { pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t(offset) + off_t(done)) }
            guard n > 0 else { throw SpoolError(code: ENOSPC, function: "pwrite", path: path) }
            done += n
        }
    }

    /// Reads up to `buffer.count` bytes from the descriptor's position; 0 at the end.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        try SpoolError.check("read", path) { Glibc.read(fd, buffer.baseAddress, buffer.count) }
    }

    /// Waits until the file's data and metadata are on disk (`fsync`).
    public func sync() throws {
        try SpoolError.check("fsync", path) { fsync(fd) }
    }

    /// Waits until the file's data (and the size that reaches it) is on disk (`fdatasync`):
    /// enough for a chunk that must survive a crash before it is acknowledged.
    public func syncData() throws {
        try SpoolError.check("fdatasync", path) { fdatasync(fd) }
    }

    /// Starts writing `length` bytes from `offset` back to disk without waiting for them
    /// (`sync_file_range` with `SYNC_FILE_RANGE_WRITE`), so a later `syncData()` waits for little.
    /// Only a hint: false when the kernel refused it, and nothing else changes.
    @discardableResult
    public func startWriteBack(offset: Int64, length: Int64) -> Bool {
        intake_start_writeback(fd, offset, length) == 0
    }
}
