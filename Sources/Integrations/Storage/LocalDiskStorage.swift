import Checksums
import Foundation
import Sodium
import Spool
#if canImport(Glibc)
import Glibc
#endif

/// Local-disk storage under one root (`$INTAKE_HOME/storage/<account>`), for a single machine.
/// A spool on the same file system is hard-linked into place; otherwise it is copied under a
/// private temporary name and that copy is linked, so a crash never leaves half a file under the
/// final name. Names are made safe, and claimed atomically (see `claim`).
public struct LocalDiskStorage: StorageProvider, Sendable {
    public let root: String

    public init(root: String) { self.root = root }

    /// Placing a file is one `link(2)`, which never replaces a name: a name taken by another
    /// upload at the same moment fails with `EEXIST` and the next candidate is tried, so two
    /// uploads can never land on one name. The file's folder (and the parent of any folder made
    /// for it) is synced before this returns, so the name is on disk as the bytes are.
    ///
    /// The SHA-256 reported is of the bytes in place, known without reading them again where
    /// that is certain: a linked spool is the very file the spool writer hashed and synced, and
    /// its `RecordedSHA256` says so while the file is unchanged since (same size, modification
    /// time and boot); a copy is hashed as it is written. Otherwise (no record, or a crash since)
    /// the file is read back and hashed.
    public func store(spoolPath: String, length: Int64, fileName: String, contentType: String, folder: [String],
                      resume: ProviderSession?, checkpoint: (ProviderSession) throws -> Void) throws -> StoredFile {
        let parts = ["Intake"] + folder.map(Self.safeName)
        let directory = ([root] + parts).joined(separator: "/")
        // The folders on the way that do not exist yet: each made here is an entry in its parent.
        let prefixes = (0...parts.count).map { ([root] + parts.prefix($0)).joined(separator: "/") }
        let made = prefixes.filter { var st = stat(); return stat($0, &st) != 0 }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o750])
        } catch {
            throw StorageProviderError("cannot create the folder \(parts.joined(separator: "/")): \(error)", transient: false)
        }
        let names = Self.names(for: Self.safeName(fileName), spool: spoolPath)
        func stored(_ name: String, sha256 known: String?) throws -> StoredFile {
            let path = directory + "/" + name
            let sha256 = try known ?? Self.sha256(of: path)
            var synced = Set<String>()
            for folder in [directory] + made.map(Self.parent) where synced.insert(folder).inserted {
                try Self.syncFolder(folder)
            }
            let relative = (parts + [name]).joined(separator: "/")
            return StoredFile(fileID: relative, path: relative, size: length, checksums: ["sha256": sha256])
        }
        // A delivery retried after a crash finds the spool already linked in place: that is the file.
        if let placed = linked(spoolPath, names: names, in: directory, length: length) {
            return try stored(placed, sha256: RecordedSHA256.recorded(at: directory + "/" + placed))
        }
        // The spool is already complete and flushed: on the same file system a hard link puts it
        // in place without writing the bytes again. Otherwise a private copy is linked instead.
        var st = stat()
        if stat(spoolPath, &st) == 0, Int64(st.st_size) == length, let name = try claim(spoolPath, names: names, in: directory) {
            chmod(directory + "/" + name, 0o640)
            return try stored(name, sha256: RecordedSHA256.recorded(at: directory + "/" + name))
        }
        let temporary = directory + "/." + Digest.base64URL(Sodium.randomBytes(12)) + ".partial"
        let sha256 = try copy(from: spoolPath, to: temporary, length: length)
        defer { unlink(temporary) }
        guard let name = try claim(temporary, names: names, in: directory) else {
            throw StorageProviderError("cannot link the file into place (errno \(errno))", transient: false)
        }
        return try stored(name, sha256: sha256)
    }

    /// The folder that holds `path`.
    static func parent(_ path: String) -> String {
        String(path[..<(path.lastIndex(of: "/") ?? path.endIndex)])
    }

    /// Waits until the entries of `folder` (names linked or made in it) are on disk: fsync(2) of
    /// the folder, which POSIX leaves as the way to make a new name durable. A file system that
    /// cannot sync a folder (`EINVAL`) is left as it is.
    static func syncFolder(_ folder: String) throws {
        let fd = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw StorageProviderError("cannot open the folder to sync it (errno \(errno))", transient: false) }
        defer { close(fd) }
        while fsync(fd) != 0 {
            switch errno {
            case EINTR: continue
            case EINVAL, ENOTSUP: return
            case let code: throw StorageProviderError("cannot sync the folder (errno \(code))", transient: true)
            }
        }
    }

    /// Links `source` under the first free name of `names` and returns it; nil when linking is
    /// impossible here (another file system). `link(2)` is atomic and fails with `EEXIST` rather
    /// than replace a name, so a name is claimed or not, never shared.
    private func claim(_ source: String, names: [String], in directory: String) throws -> String? {
        for name in names {
            if link(source, directory + "/" + name) == 0 { return name }
            switch errno {
            case EEXIST: continue
            case EXDEV, EPERM, EMLINK: return nil
            default: throw StorageProviderError("cannot place the file (errno \(errno))", transient: errno == ENOSPC || errno == EIO)
            }
        }
        throw StorageProviderError("no free name for \(names.first ?? "the file") after \(names.count) tries", transient: true)
    }

    /// The names to try, in order: the name itself; then `name (suffix).ext`, where the suffix
    /// comes from the spool file's own (random) name, so a retried delivery looks in the same two
    /// places; then a few random suffixes. Constant work however many copies of a name exist.
    static func names(for name: String, spool: String) -> [String] {
        let ext = URL(fileURLWithPath: name).pathExtension
        let stem = ext.isEmpty ? name : String(name.dropLast(ext.count + 1))
        func suffixed(_ bytes: [UInt8]) -> String {
            let alphabet = Array("abcdefghijkmnpqrstuvwxyz23456789")
            let suffix = String(bytes.prefix(6).map { alphabet[Int($0) % alphabet.count] })
            return ext.isEmpty ? "\(stem) (\(suffix))" : "\(stem) (\(suffix)).\(ext)"
        }
        let own = StreamingDigest.digest(.sha256, Array(URL(fileURLWithPath: spool).lastPathComponent.utf8))
        return [name, suffixed(own)] + (0..<6).map { _ in suffixed(Sodium.randomBytes(6)) }
    }

    /// The SHA-256 (hex) of a file as it reads back.
    static func sha256(of path: String) throws -> String {
        let digest = StreamingDigest(.sha256)
        try LocalDiskStorage(root: "/").readFile(path: path, length: nil) { digest.update($0) }
        return Sodium.hex(digest.finish())
    }

    public func delete(fileID: String) throws {
        guard let path = resolve(fileID) else { throw StorageProviderError("not a file of this storage: \(fileID)", transient: false) }
        if unlink(path) != 0 && errno != ENOENT {
            throw StorageProviderError("cannot delete \(fileID) (errno \(errno))", transient: false)
        }
    }

    public func size(fileID: String) throws -> Int64? {
        guard let path = resolve(fileID) else { return nil }
        var st = stat()
        guard stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
        return Int64(st.st_size)
    }

    /// Reads the file in 1 MiB pieces (the web serves local files through nginx instead).
    public func download(fileID: String, length: Int64, into sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard let path = resolve(fileID) else { throw StorageProviderError("not a file of this storage: \(fileID)", transient: false) }
        try readFile(path: path, length: length, into: sink)
    }

    /// Reads `length` bytes (nil: to the end) of a file in 256 KiB pieces.
    private func readFile(path: String, length: Int64?, into sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw StorageProviderError("cannot open \(path) (errno \(errno))", transient: false) }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 256 * 1024)
        var remaining = length ?? Int64.max
        while remaining > 0 {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, Int(min(Int64($0.count), remaining))) }
            if n == 0 && length == nil { return }
            guard n > 0 else { throw StorageProviderError("\(path) ended \(remaining) bytes early", transient: false) }
            try buffer.withUnsafeBytes { try sink(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            remaining -= Int64(n)
        }
    }

    /// Every regular file under `<root>/Intake`, found by walking its folders (symbolic links are
    /// not followed). Names starting with a dot are left out: the only ones there are the private
    /// copies `store` links into place (`.<random>.partial`), never a file of anyone's.
    public func listFiles() throws -> [ListedFile] {
        let top = root + "/" + IntakeFolder.name
        var st = stat()
        guard lstat(top, &st) == 0 else {
            if errno == ENOENT { return [] }
            throw StorageProviderError("cannot read the folder \(IntakeFolder.name) (errno \(errno))", transient: false)
        }
        var files: [ListedFile] = []
        var folders = [IntakeFolder.name]
        while let folder = folders.popLast() {
            let entries: [String]
            do {
                entries = try FileManager.default.contentsOfDirectory(atPath: root + "/" + folder)
            } catch {
                throw StorageProviderError("cannot read the folder \(folder): \(error)", transient: false)
            }
            for name in entries where !name.hasPrefix(".") {
                let relative = folder + "/" + name
                guard lstat(root + "/" + relative, &st) == 0 else { continue }  // gone since the folder was read
                switch st.st_mode & S_IFMT {
                case S_IFDIR: folders.append(relative)
                case S_IFREG: files.append(ListedFile(fileID: relative, path: relative, size: Int64(st.st_size)))
                default: continue
                }
            }
        }
        return files.sorted { $0.path < $1.path }
    }

    /// Moves the file to `<root>/Intake Quarantine/<its folders below Intake>/`: linked under the
    /// first free name there (`link(2)` never replaces a name, as in `store`), then unlinked from
    /// where it was, and both folders synced. Its id is its new path.
    public func quarantine(_ file: ListedFile) throws -> ListedFile {
        guard let source = resolve(file.fileID) else { throw StorageProviderError("not a file of this storage: \(file.fileID)", transient: false) }
        let parts = IntakeFolder.quarantineFolders(for: file.fileID).map(Self.safeName)
        let directory = ([root] + parts).joined(separator: "/")
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o750])
        } catch {
            throw StorageProviderError("cannot create the folder \(parts.joined(separator: "/")): \(error)", transient: false)
        }
        guard let name = try claim(source, names: Self.names(for: Self.safeName(file.name), spool: source), in: directory) else {
            throw StorageProviderError("cannot link \(file.fileID) into the quarantine (errno \(errno))", transient: false)
        }
        if unlink(source) != 0 && errno != ENOENT {
            let code = errno
            unlink(directory + "/" + name)
            throw StorageProviderError("cannot move \(file.fileID) out of \(IntakeFolder.name) (errno \(code))", transient: false)
        }
        try Self.syncFolder(directory)
        try Self.syncFolder(Self.parent(source))
        let relative = (parts + [name]).joined(separator: "/")
        return ListedFile(fileID: relative, path: relative, size: file.size)
    }

    /// Why files could not be stored here now, or nil when they can: the root (the account's
    /// folder), or before its first file the folder it is made in, must be a directory this
    /// process may enter and write (`access(2)` with `W_OK | X_OK`). The storage health checks
    /// ask it of a local-disk account in ERROR.
    public func whyUnreachable() -> String? {
        var path = root
        var st = stat()
        if stat(path, &st) != 0 {
            guard errno == ENOENT else { return "cannot look at \(path) (errno \(errno))" }
            path = Self.parent(root)
            guard stat(path, &st) == 0 else { return "the storage folder \(path) cannot be reached (errno \(errno))" }
        }
        guard (st.st_mode & S_IFMT) == S_IFDIR else { return "\(path) is not a folder" }
        guard access(path, W_OK | X_OK) == 0 else { return "the folder \(path) cannot be written (errno \(errno))" }
        return nil
    }

    /// The absolute path of a stored file, refusing anything that would leave the root.
    public func resolve(_ fileID: String) -> String? {
        let parts = fileID.split(separator: "/")
        guard !parts.isEmpty, !parts.contains(where: { $0 == ".." || $0 == "." || $0.isEmpty }), !fileID.hasPrefix("/") else { return nil }
        return root + "/" + fileID
    }

    /// A file or folder name that is safe on disk: no path separators, no control characters,
    /// not hidden, at most 200 bytes, never empty.
    static func safeName(_ raw: String) -> String {
        var name = String(raw.unicodeScalars.map { s -> Character in
            s.value < 0x20 || s.value == 0x7F || s == "/" || s == "\\" || s == ":" ? "_" : Character(s)
        })
        while name.hasPrefix(".") { name.removeFirst() }
        name = name.trimmingCharacters(in: .whitespaces)
        while name.utf8.count > 200 { name.removeLast() }
        return name.isEmpty ? "file" : name
    }

    /// The name under which the spool itself (the same inode) is already in `directory`, if any.
    private func linked(_ spoolPath: String, names: [String], in directory: String, length: Int64) -> String? {
        var spool = stat()
        guard stat(spoolPath, &spool) == 0, Int64(spool.st_size) == length, spool.st_nlink > 1 else { return nil }
        for candidate in names.prefix(2) {
            var st = stat()
            if stat(directory + "/" + candidate, &st) == 0, st.st_dev == spool.st_dev, st.st_ino == spool.st_ino { return candidate }
        }
        return nil
    }

    /// Copies the first `length` bytes of `source` to the new file `destination` (mode 0640),
    /// hashing them as they go, syncs it and returns their SHA-256 (hex): the hash of exactly the
    /// bytes written, with no second read. Write-back starts as the copy goes, as the spool's does.
    private func copy(from source: String, to destination: String, length: Int64) throws -> String {
        func failure(_ error: SpoolError, _ what: String) -> StorageProviderError {
            StorageProviderError("\(what) (errno \(error.code))\(error.code == ENOSPC ? ": is the disk full?" : "")",
                                 transient: error.code == ENOSPC || error.code == EIO)
        }
        let input: SpoolFile
        do {
            guard let opened = try SpoolFile.openForReading(source) else {
                throw StorageProviderError("the spool file is gone", transient: false)
            }
            input = opened
        } catch let error as SpoolError { throw failure(error, "cannot open the spool file") }
        defer { input.close() }
        let output: SpoolFile
        do { output = try SpoolFile.create(destination) } catch let error as SpoolError { throw failure(error, "cannot create the file") }
        let digest = StreamingDigest(.sha256)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        var copied: Int64 = 0, flushedTo: Int64 = 0
        do {
            while copied < length {
                let n = try input.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<Int(min(Int64(buffer.count), length - copied))]))
                guard n > 0 else { throw StorageProviderError("the spool file ended early", transient: false) }
                let piece = UnsafeRawBufferPointer(rebasing: buffer[0..<n])
                digest.update(piece)
                try output.write(piece)
                copied += Int64(n)
                if copied - flushedTo >= 8 << 20 {
                    output.startWriteBack(offset: flushedTo, length: copied - flushedTo)
                    flushedTo = copied
                }
            }
            try output.sync()
            output.close()
            chmod(destination, 0o640)
            return Sodium.hex(digest.finish())
        } catch {
            output.close()
            unlink(destination)
            if let error = error as? SpoolError { throw failure(error, "writing the file failed") }
            throw error
        }
    }
}
