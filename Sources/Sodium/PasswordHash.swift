import CSodium

/// Password hashing with argon2id (`crypto_pwhash_argon2id_str`), the encoded string carrying
/// its own salt and parameters, so stored hashes stay verifiable when the parameters change.
public enum PasswordHash {
    /// The cost used for new hashes: libsodium's "interactive" limits (2 passes, 64 MiB).
    static var opsLimit: UInt64 { UInt64(crypto_pwhash_argon2id_opslimit_interactive()) }
    static var memLimit: Int { crypto_pwhash_argon2id_memlimit_interactive() }

    /// Hashes `password`. Fails only when the machine cannot allocate the memory argon2id asks for.
    public static func hash(_ password: String) throws -> String {
        Sodium.ensureInitialised()
        var out = [CChar](repeating: 0, count: crypto_pwhash_argon2id_strbytes())
        let bytes = Array(password.utf8)
        let rc = bytes.withUnsafeBufferPointer { p in
            p.baseAddress!.withMemoryRebound(to: CChar.self, capacity: max(bytes.count, 1)) {
                crypto_pwhash_argon2id_str(&out, $0, UInt64(bytes.count), opsLimit, memLimit)
            }
        }
        guard rc == 0 else { throw SodiumError("argon2id hashing failed (out of memory?)") }
        return String(decoding: out.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Whether `password` matches `encoded`; false for a malformed hash. Takes the same time for
    /// any wrong password.
    public static func verify(_ password: String, against encoded: String) -> Bool {
        Sodium.ensureInitialised()
        let bytes = Array(password.utf8)
        return bytes.withUnsafeBufferPointer { p in
            p.baseAddress!.withMemoryRebound(to: CChar.self, capacity: max(bytes.count, 1)) {
                crypto_pwhash_argon2id_str_verify(encoded, $0, UInt64(bytes.count)) == 0
            }
        }
    }

    /// Whether `encoded` was made with other parameters than the current ones.
    public static func needsRehash(_ encoded: String) -> Bool {
        crypto_pwhash_argon2id_str_needs_rehash(encoded, opsLimit, memLimit) != 0
    }

    /// A valid hash of a random password, verified against when the account does not exist, so
    /// that an unknown e-mail costs the same time as a wrong password.
    public static let decoy: String = (try? hash(Sodium.hex(Sodium.randomBytes(16)))) ?? ""
}

/// A libsodium call that failed.
public struct SodiumError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
