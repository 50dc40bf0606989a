import CLibCrypto

/// A message digest over data that arrives in pieces (a file being spooled), from OpenSSL's EVP
/// interface. One owner frees the context, in `deinit`.
public final class StreamingDigest {
    public enum Algorithm: Sendable {
        case sha256, sha1, md5
    }

    private let context: OpaquePointer
    private var finished = false

    public init(_ algorithm: Algorithm) {
        guard let context = EVP_MD_CTX_new() else { fatalError("EVP_MD_CTX_new: out of memory") }
        self.context = context
        let md: OpaquePointer?
        switch algorithm {
        case .sha256: md = EVP_sha256()
        case .sha1: md = EVP_sha1()
        case .md5: md = EVP_md5()
        }
        // Cannot fail for these built-in digests short of memory exhaustion.
        precondition(EVP_DigestInit_ex(context, md, nil) == 1, "EVP_DigestInit_ex failed")
    }

    deinit { EVP_MD_CTX_free(context) }

    public func update(_ bytes: UnsafeRawBufferPointer) {
        precondition(!finished, "a finished digest cannot take more data")
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        precondition(EVP_DigestUpdate(context, base, bytes.count) == 1, "EVP_DigestUpdate failed")
    }

    public func update(_ bytes: [UInt8]) { bytes.withUnsafeBytes { update($0) } }

    /// The digest; the object takes no more data after.
    public func finish() -> [UInt8] {
        precondition(!finished, "finish called twice")
        finished = true
        var out = [UInt8](repeating: 0, count: Int(clibcrypto_max_md_size()))
        var length: UInt32 = 0
        precondition(EVP_DigestFinal_ex(context, &out, &length) == 1, "EVP_DigestFinal_ex failed")
        return Array(out.prefix(Int(length)))
    }

    /// One-shot convenience.
    public static func digest(_ algorithm: Algorithm, _ bytes: [UInt8]) -> [UInt8] {
        let d = StreamingDigest(algorithm)
        d.update(bytes)
        return d.finish()
    }
}
