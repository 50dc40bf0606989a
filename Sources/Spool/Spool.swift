import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The spool: the folders on this host's disk where a file waits between arriving and reaching its
/// storage. Requests' files are spooled at the top (`*.spool`, by `SpoolWriter`), resumable
/// uploads under `tus/`, and files waiting for delivery under `deliveries/`. Every folder is this
/// user's only (0700), every file too (0600). Files are named by paths, as the database records
/// them; each open one is a `SpoolFile`.
public struct Spool: Sendable {
    /// The spool's root folder.
    public let directory: String

    public init(directory: String) {
        self.directory = directory
    }

    /// The spool's folders.
    public enum Folder: Sendable {
        /// Files of requests being received, at the top.
        case requests
        /// Resumable (tus) uploads, under `tus/`.
        case resumable
        /// Files recorded and waiting for their storage, under `deliveries/`.
        case deliveries
        /// Copies of stored files on their way to another storage account, under `migrations/`.
        case migrations
    }

    /// The space left on the spool's file system, and its size, in bytes (statvfs: what an
    /// unprivileged process may still write); nil when the folder cannot be looked at.
    /// A spool not made yet (before the first upload) is measured at the nearest folder above it
    /// that exists: the file system it will be made on.
    public func space() -> (free: Int64, total: Int64)? {
        var info = statvfs()
        var path = directory
        while statvfs(path, &info) != 0 {
            guard errno == ENOENT, let slash = path.lastIndex(of: "/"), slash > path.startIndex else { return nil }
            path = String(path[..<slash])
        }
        let block = Int64(info.f_frsize)
        return (Int64(info.f_bavail) * block, Int64(info.f_blocks) * block)
    }

    public func path(_ folder: Folder) -> String {
        switch folder {
        case .requests: return directory
        case .resumable: return directory + "/tus"
        case .deliveries: return directory + "/deliveries"
        case .migrations: return directory + "/migrations"
        }
    }

    /// A writer for a new request file, limited to `limit` bytes.
    public func writer(limit: Int64) throws -> SpoolWriter {
        try SpoolWriter(directory: path(.requests), limit: limit)
    }

    /// Creates the empty file `name` in `folder` (which must not hold one yet) and returns its path.
    @discardableResult
    public func create(_ name: String, in folder: Folder) throws -> String {
        try Self.makeFolder(path(folder))
        let path = path(folder) + "/" + name
        try SpoolFile.create(path).close()
        return path
    }

    /// Moves the file at `path` into the deliveries folder under a new name, and returns where it
    /// now is. rename(2) on one file system: the file is under one name or the other, never both
    /// or neither.
    public func moveToDeliveries(_ path: String) throws -> String {
        try Self.makeFolder(self.path(.deliveries))
        let target = self.path(.deliveries) + "/" + UUID().uuidString.lowercased() + ".data"
        try SpoolError.check("rename", path) { rename(path, target) }
        return target
    }

    /// A regular file of a folder, with what the orphan sweeps look at.
    public struct Entry: Sendable, Equatable {
        public let name: String
        public let path: String
        public let size: Int64
        /// The last modification, in seconds since the Unix epoch.
        public let modifiedAt: Int64
    }

    /// The regular files directly in `folder` (none when it does not exist yet).
    public func entries(in folder: Folder) -> [Entry] {
        let base = path(folder)
        return ((try? FileManager.default.contentsOfDirectory(atPath: base)) ?? []).compactMap { name in
            let path = base + "/" + name
            var st = stat()
            guard stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
            return Entry(name: name, path: path, size: Int64(st.st_size), modifiedAt: Int64(st.st_mtim.tv_sec))
        }
    }

    /// The size of the file at `path`, or nil when there is none.
    public static func size(of path: String) -> Int64? {
        var st = stat()
        return stat(path, &st) == 0 ? Int64(st.st_size) : nil
    }

    /// Gives the file at `path` the name `target` too, unless `target` exists: false then. link(2)
    /// never replaces a name, so of several processes claiming one name exactly one succeeds.
    public static func link(_ path: String, to target: String) throws -> Bool {
        do {
            try SpoolError.check("link", target) { Glibc.link(path, target) }
            return true
        } catch let error as SpoolError where error.code == EEXIST {
            return false
        }
    }

    /// Removes the file at `path`; false when there was none to remove (or it could not be).
    @discardableResult
    public static func remove(_ path: String) -> Bool {
        unlink(path) == 0
    }

    /// Makes `path` and any missing parents, this user's only (mkdir(2) with mode 0700; an
    /// existing folder is left as it is).
    static func makeFolder(_ path: String) throws {
        if mkdir(path, 0o700) == 0 { return }
        switch errno {
        case EEXIST:
            return
        case ENOENT:
            let parent = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)])
            guard !parent.isEmpty else { throw SpoolError(code: ENOENT, function: "mkdir", path: path) }
            try makeFolder(parent)
            if mkdir(path, 0o700) != 0 && errno != EEXIST { throw SpoolError(code: errno, function: "mkdir", path: path) }
        case let code:
            throw SpoolError(code: code, function: "mkdir", path: path)
        }
    }
}
