import Sodium
import Spool

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
            let temporary = path + ".tmp.\(LocalProcesses().pid)"
            let file: SpoolFile
            do {
                file = try SpoolFile.create(temporary)
            } catch let error as SpoolError {
                throw ConfigurationError(key: "INTAKE_SECRET_KEY", message: "cannot create the key file \(path) (errno \(error.code))")
            }
            do {
                try Array((Sodium.hex(key) + "\n").utf8).withUnsafeBytes { try file.write($0) }
                try file.sync()
                file.close()
            } catch {
                file.close()
                Spool.remove(temporary)
                throw ConfigurationError(key: "INTAKE_SECRET_KEY", message: "cannot write the key file \(path)")
            }
            // link(2) fails if another process created the file meanwhile; then use theirs.
            do {
                _ = try Spool.link(temporary, to: path)
            } catch let error as SpoolError {
                Spool.remove(temporary)
                throw ConfigurationError(key: "INTAKE_SECRET_KEY", message: "cannot create the key file \(path) (errno \(error.code))")
            }
            Spool.remove(temporary)
            guard let stored = try readKey(path) else {
                throw ConfigurationError(key: "INTAKE_SECRET_KEY", message: "the key file \(path) vanished")
            }
            return stored
        }
    }

    private static func readKey(_ path: String) throws -> [UInt8]? {
        let opened: SpoolFile?
        do {
            opened = try SpoolFile.openForReading(path)
        } catch let error as SpoolError {
            throw ConfigurationError(key: "INTAKE_SECRET_KEY", message: "cannot read the key file \(path) (errno \(error.code))")
        }
        guard let file = opened else { return nil }
        defer { file.close() }
        var buffer = [UInt8](repeating: 0, count: 256)
        let n = (try? buffer.withUnsafeMutableBytes { try file.read(into: $0) }) ?? 0
        let text = String(decoding: buffer[0..<n], as: UTF8.self).trimmingSpaces()
        guard let key = Sodium.unhex(text), key.count == 32 else {
            throw ConfigurationError(key: "INTAKE_SECRET_KEY", message: "the key file \(path) must hold 64 hexadecimal characters")
        }
        return key
    }
}
