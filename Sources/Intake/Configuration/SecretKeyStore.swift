import Sodium
#if canImport(Glibc)
import Glibc
#endif

/// Resolves the configured secret key to bytes, creating the key file on first start.
public enum SecretKeyStore {
    /// The key for `source`. A generated file is created with mode 0600, written before it is
    /// visible under its name, so a concurrent start never reads a half-written key.
    public static func load(_ source: Configuration.SecretKeySource) throws -> [UInt8] {
        switch source {
        case .value(let key):
            return key
        case .file(let path):
            guard let key = try readKey(path) else {
                throw ConfigurationError(key: "INTAKE_SECRET_KEY_FILE", message: "names \(path), which does not exist")
            }
            return key
        case .generatedFile(let path):
            if let key = try readKey(path) { return key }
            let key = Sodium.randomBytes(32)
            let temporary = path + ".tmp.\(getpid())"
            let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            guard fd >= 0 else {
                throw ConfigurationError(key: "INTAKE_SECRET_KEY", message: "cannot create the key file \(path) (errno \(errno))")
            }
            let text = Array((Sodium.hex(key) + "\n").utf8)
            let written = text.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            fsync(fd)
            close(fd)
            guard written == text.count else {
                unlink(temporary)
                throw ConfigurationError(key: "INTAKE_SECRET_KEY", message: "cannot write the key file \(path)")
            }
            // link(2) fails if another process created the file meanwhile; then use theirs.
            if link(temporary, path) != 0 && errno != EEXIST {
                let e = errno
                unlink(temporary)
                throw ConfigurationError(key: "INTAKE_SECRET_KEY", message: "cannot create the key file \(path) (errno \(e))")
            }
            unlink(temporary)
            guard let stored = try readKey(path) else {
                throw ConfigurationError(key: "INTAKE_SECRET_KEY", message: "the key file \(path) vanished")
            }
            return stored
        }
    }

    private static func readKey(_ path: String) throws -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw ConfigurationError(key: "INTAKE_SECRET_KEY", message: "cannot read the key file \(path) (errno \(errno))")
        }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 256)
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        let text = String(decoding: buffer[0..<max(0, n)], as: UTF8.self).trimmingSpaces()
        guard let key = Sodium.unhex(text), key.count == 32 else {
            throw ConfigurationError(key: "INTAKE_SECRET_KEY", message: "the key file \(path) must hold 64 hexadecimal characters")
        }
        return key
    }
}
