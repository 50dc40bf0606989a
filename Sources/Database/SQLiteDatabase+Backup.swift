import CSQLite
#if canImport(Glibc)
import Glibc
#endif

/// Why a backup or a restore could not write or read a file, in the cases an operator acts on
/// differently.
public struct DatabaseFileError: Error, CustomStringConvertible {
    public enum Reason: Sendable, Equatable {
        /// The file is already there (and replacing it was not asked for).
        case exists
        /// The file to read is not there.
        case missing
        /// The folder the file goes in does not exist.
        case noFolder
        /// The folder or the file may not be written (permissions, a read-only file system).
        case notWritable
        /// The disk, or the user's share of it, is full.
        case noSpace
        /// The file is not a SQLite database.
        case notADatabase
        /// SQLite's integrity check found damage.
        case damaged
        /// Another connection, of this process or another, has the database open.
        case inUse
        /// Anything else.
        case failed
    }

    public let reason: Reason
    /// The file or folder concerned.
    public let path: String
    /// What went wrong, in words (the system's or SQLite's).
    public let detail: String

    public init(_ reason: Reason, _ path: String, _ detail: String) {
        self.reason = reason
        self.path = path
        self.detail = detail
    }

    public var description: String { "\(path): \(detail)" }
}

extension SQLiteDatabase {
    /// What a backup copied.
    public struct BackupCopy: Sendable, Equatable {
        /// The database's pages in the snapshot copied.
        public let pages: Int
        /// The backup file's size in bytes.
        public let bytes: Int64
    }

    /// Pages a backup copies per step: 1 MiB at SQLite's default page size.
    public static let backupPagesPerStep: Int32 = 256
    /// The pause between two steps of a backup, in microseconds.
    public static let backupPauseMicroseconds: UInt32 = 2_000

    /// Copies this database, as one consistent snapshot, into a new file at `path` (mode 0600),
    /// with SQLite's online backup API while other connections and processes go on writing.
    ///
    /// The copy is made in a temporary file in `path`'s folder, synced, and only then given its
    /// name, so a half-written backup is never at `path`. An existing `path` is an error unless
    /// `replacing`. The backup is a single file in rollback-journal mode: nothing beside it is
    /// needed to open it.
    ///
    /// The copy runs inside a read transaction, which in WAL mode blocks no writer. Without it,
    /// "if the source database is modified by … any other connection … during the backup, then
    /// the backup will be restarted by the next call to sqlite3_backup_step()" (SQLite's
    /// documentation), which under steady writes never finishes; within it, every step reads the
    /// same snapshot. The pause between steps leaves the disk to the writers. Call it inside
    /// `read` to read something of the same snapshot (a schema version) beside it. While it runs,
    /// checkpoints cannot pass the snapshot, so the WAL grows by what is written meanwhile.
    public func backup(to path: String, replacing: Bool = false) throws -> BackupCopy {
        if FileSystem.isFolder(path) { throw DatabaseFileError(.exists, path, "is a folder; name the backup file") }
        if !replacing && FileSystem.exists(path) { throw DatabaseFileError(.exists, path, "already exists") }
        let temporary = try FileSystem.makeTemporary(beside: path)
        var placed = false
        defer { if !placed { FileSystem.removeDatabaseFiles(temporary) } }
        let target = try BackupTarget(path: temporary)
        let pages: Int = try read {
            // The first read fixes the snapshot every step then copies from.
            _ = try query("SELECT 1 FROM sqlite_schema LIMIT 1")
            guard let backup = sqlite3_backup_init(target.handle, "main", handle, "main") else {
                throw target.error(sqlite3_errcode(target.handle), temporary)
            }
            var rc: Int32
            var waited: Int64 = 0
            repeat {
                rc = sqlite3_backup_step(backup, Self.backupPagesPerStep)
                if rc == SQLITE_BUSY || rc == SQLITE_LOCKED {
                    waited += Int64(Self.backupPauseMicroseconds)
                    if waited > Int64(Self.busyTimeoutMilliseconds) * 1000 { break }
                }
                if rc != SQLITE_DONE { usleep(Self.backupPauseMicroseconds) }
            } while rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED
            let pages = Int(sqlite3_backup_pagecount(backup))
            let finished = sqlite3_backup_finish(backup)
            guard rc == SQLITE_DONE else { throw target.error(rc, temporary) }
            guard finished == SQLITE_OK else { throw target.error(finished, temporary) }
            return pages
        }
        // The copy took the source's WAL mode with its header; rollback-journal mode needs no
        // -wal or -shm beside the file.
        try target.execute("PRAGMA journal_mode = DELETE", temporary)
        target.close()
        try FileSystem.sync(temporary)
        try FileSystem.place(temporary, at: path, replacing: replacing)
        placed = true
        try FileSystem.syncFolder(of: path)
        return BackupCopy(pages: pages, bytes: FileSystem.size(path))
    }

    /// What `restore` did.
    public struct RestoredCopy: Sendable, Equatable {
        /// The restored database's size in bytes.
        public let bytes: Int64
        /// Whether a database was at the path before, now kept under the name given.
        public let keptCurrent: Bool
    }

    /// Puts a copy of the backup file `backup` at `path` (mode 0600), replacing the database
    /// there, which is kept as `kept`.
    ///
    /// The backup is copied into a temporary file in `path`'s folder and checked there, never
    /// where it lies: it must open as a SQLite database, pass `PRAGMA integrity_check`, and pass
    /// `check` (the caller's own, on a connection to the copy). The current database must be
    /// closed by everyone else: its WAL is checkpointed into the file and truncated, and when our
    /// connection to it closes, SQLite removes the WAL unless another connection still has the
    /// database open ("when the last connection to a database closes, that connection does one
    /// last checkpoint and then deletes the WAL and its associated shared-memory file", SQLite's
    /// WAL documentation) — so a WAL still there means another process is using it, and nothing
    /// is replaced. The current file, complete after the checkpoint, becomes `kept` (a hard link,
    /// or a copy where the file system has none); then the copy is synced and renamed over
    /// `path`, so `path` is always one database or the other, never half of one. Stale `-wal`
    /// and `-shm` files of the replaced database are removed.
    public static func restore(_ path: String, from backup: String, keepingCurrentAs kept: String,
                               check: (SQLiteDatabase) throws -> Void) throws -> RestoredCopy {
        guard FileSystem.exists(backup), !FileSystem.isFolder(backup) else { throw DatabaseFileError(.missing, backup, "no such file") }
        let temporary = try FileSystem.makeTemporary(beside: path)
        var placed = false
        defer { if !placed { FileSystem.removeDatabaseFiles(temporary) } }
        try FileSystem.copy(backup, into: temporary)
        try checkCopy(temporary, of: backup, check: check)
        try FileSystem.sync(temporary)
        var keptCurrent = false
        if FileSystem.exists(path) {
            try closeEverywhere(path)
            try FileSystem.keep(path, as: kept)
            keptCurrent = true
        }
        try FileSystem.place(temporary, at: path, replacing: true)
        placed = true
        _ = unlink(path + "-wal")
        _ = unlink(path + "-shm")
        try FileSystem.syncFolder(of: path)
        return RestoredCopy(bytes: FileSystem.size(path), keptCurrent: keptCurrent)
    }

    /// Opens the copy (which also switches it to WAL mode, as every connection here does),
    /// checks it, and closes it, which folds its WAL back into the file.
    private static func checkCopy(_ temporary: String, of backup: String, check: (SQLiteDatabase) throws -> Void) throws {
        do {
            let copy = try SQLiteDatabase(path: temporary)
            let verdict = try copy.query("PRAGMA integrity_check").compactMap { try $0.get($0.columns[0], as: String?.self) }
            guard verdict == ["ok"] else {
                throw DatabaseFileError(.damaged, backup, "fails SQLite's integrity check: \(verdict.prefix(3).joined(separator: "; "))")
            }
            try check(copy)
        } catch let error as DatabaseError where error.driverCode & 0xFF == SQLITE_NOTADB {
            throw DatabaseFileError(.notADatabase, backup, "is not a SQLite database")
        } catch let error as DatabaseError where error.driverCode & 0xFF == SQLITE_CORRUPT {
            throw DatabaseFileError(.damaged, backup, "is damaged: \(error.message)")
        }
    }

    /// Folds the WAL of the database at `path` into its file and closes our connection; throws
    /// `inUse` when another connection still has it open (see `restore`).
    private static func closeEverywhere(_ path: String) throws {
        let busy: Bool = try {
            let current = try SQLiteDatabase(path: path)
            return try current.queryOne("PRAGMA wal_checkpoint(TRUNCATE)")?.values.first == .integer(1)
        }()
        if busy || FileSystem.exists(path + "-wal") {
            throw DatabaseFileError(.inUse, path, "is open in another process (its WAL is still in use)")
        }
    }
}

/// The backup file's own connection, opened without WAL (the copy then needs no -wal beside
/// it), and closed by its one owner.
private final class BackupTarget {
    private(set) var handle: OpaquePointer?

    init(path: String) throws {
        var db: OpaquePointer?
        let rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nil)
        handle = db
        guard rc == SQLITE_OK else { throw error(rc, path) }
    }

    deinit { close() }

    func close() {
        sqlite3_close_v2(handle)
        handle = nil
    }

    func execute(_ sql: String, _ path: String) throws {
        let rc = sqlite3_exec(handle, sql, nil, nil, nil)
        guard rc == SQLITE_OK else { throw error(rc, path) }
    }

    /// A failure writing the backup file, by its cause: the disk full, the folder not writable,
    /// or the system's error behind an I/O failure.
    func error(_ rc: Int32, _ path: String) -> DatabaseFileError {
        let detail = handle.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(rc))
        switch rc & 0xFF {
        case SQLITE_FULL: return DatabaseFileError(.noSpace, path, detail)
        case SQLITE_READONLY, SQLITE_PERM, SQLITE_CANTOPEN: return DatabaseFileError(.notWritable, path, detail)
        case SQLITE_IOERR:
            let code = handle.map { sqlite3_system_errno($0) } ?? 0
            return FileSystem.error(code, path, code == 0 ? detail : nil)
        default: return DatabaseFileError(.failed, path, detail)
        }
    }
}

/// The file operations of backup and restore, each failure a `DatabaseFileError`.
enum FileSystem {
    static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    static func isFolder(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    static func size(_ path: String) -> Int64 {
        var info = stat()
        return stat(path, &info) == 0 ? Int64(info.st_size) : 0
    }

    /// The folder `path` is in.
    static func folder(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// An empty file of mode 0600 in `path`'s folder, named after it (`.NAME.XXXXXX`), so that a
    /// rename moves it into place within one file system.
    static func makeTemporary(beside path: String) throws -> String {
        let folder = folder(of: path)
        let name = path.split(separator: "/").last.map(String.init) ?? "database"
        var template = Array("\(folder)/.\(name).XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }  // O_EXCL, mode 0600
        guard fd >= 0 else { throw error(errno, folder) }
        close(fd)
        return template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    /// Removes a database file and whatever SQLite keeps beside it.
    static func removeDatabaseFiles(_ path: String) {
        for suffix in ["", "-journal", "-wal", "-shm"] { _ = unlink(path + suffix) }
    }

    /// Copies the bytes of `source` over the (empty) file `destination`, then syncs it.
    static func copy(_ source: String, into destination: String) throws {
        let input = open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw unreadable(errno, source) }
        defer { close(input) }
        let output = open(destination, O_WRONLY | O_TRUNC | O_CLOEXEC)
        guard output >= 0 else { throw error(errno, destination) }
        defer { close(output) }
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw unreadable(errno, source) }
            if n == 0 { break }
            var written = 0
            while written < n {
                let w = buffer.withUnsafeBytes { write(output, $0.baseAddress! + written, n - written) }
                if w < 0 && errno == EINTR { continue }
                guard w > 0 else { throw error(errno, destination) }
                written += w
            }
        }
        guard fsync(output) == 0 else { throw error(errno, destination) }
    }

    /// fsync(2) of a file, so its bytes are on disk before its name points at it.
    static func sync(_ path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw error(errno, path) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw error(errno, path) }
    }

    /// fsync(2) of `path`'s folder, so a rename or link in it survives a crash.
    static func syncFolder(of path: String) throws {
        let folder = folder(of: path)
        let fd = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw error(errno, folder) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw error(errno, folder) }
    }

    /// Gives the finished file `temporary` the name `path`: rename(2), which replaces atomically;
    /// or, when not `replacing`, link(2), which fails if `path` appeared meanwhile (a rename
    /// where the file system has no hard links).
    static func place(_ temporary: String, at path: String, replacing: Bool) throws {
        if !replacing {
            if link(temporary, path) == 0 {
                _ = unlink(temporary)
                return
            }
            let code = errno
            guard [EPERM, EXDEV, EMLINK, EOPNOTSUPP].contains(code), !exists(path) else { throw error(code, path) }
        }
        guard rename(temporary, path) == 0 else { throw error(errno, path) }
    }

    /// `path` also under the name `kept` (which must be new): a hard link, or a copy.
    static func keep(_ path: String, as kept: String) throws {
        if link(path, kept) == 0 { return }
        let code = errno
        guard [EPERM, EXDEV, EMLINK, EOPNOTSUPP].contains(code) else { throw error(code, kept) }
        let fd = open(kept, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw error(errno, kept) }
        close(fd)
        do { try copy(path, into: kept) } catch {
            _ = unlink(kept)
            throw error
        }
    }

    /// A file that cannot be read: missing, or anything else.
    static func unreadable(_ code: Int32, _ path: String) -> DatabaseFileError {
        DatabaseFileError(code == ENOENT ? .missing : .failed, path, "cannot be read: \(String(cString: strerror(code)))")
    }

    /// A system error as the reason an operator acts on, with the system's words
    /// (`strerror`) unless `detail` says more.
    static func error(_ code: Int32, _ path: String, _ detail: String? = nil) -> DatabaseFileError {
        let words = detail ?? String(cString: strerror(code))
        switch code {
        case EEXIST: return DatabaseFileError(.exists, path, "already exists")
        case ENOENT, ENOTDIR: return DatabaseFileError(.noFolder, path, "no such folder")
        case EACCES, EPERM, EROFS: return DatabaseFileError(.notWritable, path, "not writable (\(words))")
        case ENOSPC, EDQUOT: return DatabaseFileError(.noSpace, path, words)
        default: return DatabaseFileError(.failed, path, words)
        }
    }
}
