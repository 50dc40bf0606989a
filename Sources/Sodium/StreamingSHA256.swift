import CSodium

/// SHA-256 over data that arrives in pieces (a file being spooled), without holding it.
public struct StreamingSHA256 {
    private var state = crypto_hash_sha256_state()

    public init() {
        Sodium.ensureInitialised()
        crypto_hash_sha256_init(&state)
    }

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        crypto_hash_sha256_update(&state, base.assumingMemoryBound(to: UInt8.self), UInt64(bytes.count))
    }

    /// The digest; the hasher must not be used after.
    public mutating func finish() -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(crypto_hash_sha256_BYTES))
        crypto_hash_sha256_final(&state, &out)
        return out
    }
}
