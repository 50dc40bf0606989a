import CSodium

/// SHA-256 and HMAC-SHA-256 from libsodium.
public enum Digest {
    /// SHA-256 of `bytes` (32 bytes).
    public static func sha256(_ bytes: [UInt8]) -> [UInt8] {
        Sodium.ensureInitialised()
        var out = [UInt8](repeating: 0, count: Int(crypto_hash_sha256_BYTES))
        _ = bytes.withUnsafeBufferPointer { crypto_hash_sha256(&out, $0.baseAddress, UInt64(bytes.count)) }
        return out
    }

    /// HMAC-SHA-256 of `message` under `key` (any length; libsodium hashes long keys).
    public static func hmacSHA256(key: [UInt8], _ message: [UInt8]) -> [UInt8] {
        Sodium.ensureInitialised()
        var state = crypto_auth_hmacsha256_state()
        var out = [UInt8](repeating: 0, count: Int(crypto_auth_hmacsha256_BYTES))
        _ = key.withUnsafeBufferPointer { crypto_auth_hmacsha256_init(&state, $0.baseAddress!, key.count) }
        message.withUnsafeBufferPointer { _ = crypto_auth_hmacsha256_update(&state, $0.baseAddress, UInt64(message.count)) }
        crypto_auth_hmacsha256_final(&state, &out)
        return out
    }

    /// URL-safe base64 without padding, for tokens in cookies and forms.
    public static func base64URL(_ bytes: [UInt8]) -> String {
        Sodium.ensureInitialised()
        let variant = Int32(sodium_base64_VARIANT_URLSAFE_NO_PADDING)
        var out = [CChar](repeating: 0, count: sodium_base64_encoded_len(bytes.count, variant))
        bytes.withUnsafeBufferPointer { _ = sodium_bin2base64(&out, out.count, $0.baseAddress, bytes.count, variant) }
        return String(decoding: out.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Decodes URL-safe base64 without padding; nil when malformed.
    public static func fromBase64URL(_ text: String) -> [UInt8]? {
        Sodium.ensureInitialised()
        let input = Array(text.utf8)
        var out = [UInt8](repeating: 0, count: input.count)
        var length = 0
        let rc = input.withUnsafeBufferPointer { p in
            p.baseAddress!.withMemoryRebound(to: CChar.self, capacity: max(input.count, 1)) {
                sodium_base642bin(&out, out.count, $0, input.count, nil, &length, nil, Int32(sodium_base64_VARIANT_URLSAFE_NO_PADDING))
            }
        }
        guard rc == 0 else { return nil }
        return Array(out[0..<length])
    }
}
