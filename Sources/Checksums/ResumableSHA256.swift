import CLibCrypto

/// SHA-256 whose running state can be saved and restored: a resumable upload's chunks arrive in
/// separate requests, possibly at different worker processes, and the hash must go on where the
/// last chunk left it without reading the file again. The state is OpenSSL's plain `SHA256_CTX`
/// (the chaining values, the byte count and the partial block), valid for the same build on the
/// same architecture — which is what a spool file on one machine needs.
public struct ResumableSHA256 {
    private var context: [UInt8]

    public static let stateSize = Int(clibcrypto_sha256_state_size())

    public init() {
        context = [UInt8](repeating: 0, count: Self.stateSize)
        precondition(context.withUnsafeMutableBytes { clibcrypto_sha256_init($0.baseAddress) } == 1, "SHA256_Init failed")
    }

    /// Restores a saved state; nil when the bytes are not one.
    public init?(state: [UInt8]) {
        guard state.count == Self.stateSize, state.withUnsafeBytes({ clibcrypto_sha256_state_valid($0.baseAddress) }) == 1 else { return nil }
        context = state
    }

    /// The state to save.
    public var state: [UInt8] { context }

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        precondition(context.withUnsafeMutableBytes { clibcrypto_sha256_update($0.baseAddress, base, bytes.count) } == 1, "SHA256_Update failed")
    }

    /// The digest of everything so far (the state itself is left as it was).
    public func finish() -> [UInt8] {
        var copy = context
        var out = [UInt8](repeating: 0, count: 32)
        precondition(copy.withUnsafeMutableBytes { clibcrypto_sha256_final(&out, $0.baseAddress) } == 1, "SHA256_Final failed")
        return out
    }
}
