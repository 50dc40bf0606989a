import CSodium

/// Secrets at rest (OAuth tokens): XChaCha20-Poly1305 (libsodium's AEAD) under the configured
/// key, a random 24-byte nonce stored before the ciphertext. The associated data binds a sealed
/// value to its place (for example `storage_account:12:refresh_token`), so a value copied into
/// another row does not open there.
public enum SecretBox {
    static var nonceBytes: Int { Int(crypto_aead_xchacha20poly1305_ietf_npubbytes()) }
    static var tagBytes: Int { Int(crypto_aead_xchacha20poly1305_ietf_abytes()) }

    /// Seals `plaintext`; the result is nonce ‖ ciphertext ‖ tag.
    public static func seal(_ plaintext: [UInt8], key: [UInt8], context: String) throws -> [UInt8] {
        Sodium.ensureInitialised()
        guard key.count == Sodium.secretKeyBytes else { throw SodiumError("the secret key must be \(Sodium.secretKeyBytes) bytes") }
        let nonce = Sodium.randomBytes(nonceBytes)
        let ad = Array(context.utf8)
        var out = [UInt8](repeating: 0, count: plaintext.count + tagBytes)
        var written: UInt64 = 0
        let rc = out.withUnsafeMutableBufferPointer { o in
            plaintext.withUnsafeBufferPointer { p in
                ad.withUnsafeBufferPointer { a in
                    crypto_aead_xchacha20poly1305_ietf_encrypt(o.baseAddress!, &written, p.baseAddress, UInt64(plaintext.count),
                                                               a.baseAddress, UInt64(ad.count), nil, nonce, key)
                }
            }
        }
        guard rc == 0 else { throw SodiumError("sealing failed") }
        return nonce + out.prefix(Int(written))
    }

    /// Opens a value made by `seal` with the same key and context; a wrong key, context or a
    /// changed byte is an error, never garbage.
    public static func open(_ sealed: [UInt8], key: [UInt8], context: String) throws -> [UInt8] {
        Sodium.ensureInitialised()
        guard key.count == Sodium.secretKeyBytes, sealed.count >= nonceBytes + tagBytes else {
            throw SodiumError("the sealed value is malformed")
        }
        let nonce = Array(sealed.prefix(nonceBytes))
        let cipher = Array(sealed.dropFirst(nonceBytes))
        let ad = Array(context.utf8)
        var out = [UInt8](repeating: 0, count: cipher.count)
        var written: UInt64 = 0
        let rc = out.withUnsafeMutableBufferPointer { o in
            cipher.withUnsafeBufferPointer { c in
                ad.withUnsafeBufferPointer { a in
                    crypto_aead_xchacha20poly1305_ietf_decrypt(o.baseAddress, &written, nil, c.baseAddress!, UInt64(cipher.count),
                                                               a.baseAddress, UInt64(ad.count), nonce, key)
                }
            }
        }
        guard rc == 0 else { throw SodiumError("the sealed value does not open with this key and context") }
        return Array(out.prefix(Int(written)))
    }

    /// Seals text.
    public static func seal(_ text: String, key: [UInt8], context: String) throws -> [UInt8] {
        try seal(Array(text.utf8), key: key, context: context)
    }

    /// Opens text sealed by `seal(_:key:context:)`.
    public static func openText(_ sealed: [UInt8], key: [UInt8], context: String) throws -> String {
        String(decoding: try open(sealed, key: key, context: context), as: UTF8.self)
    }
}
