/// Dropbox's `content_hash`: the file cut into 4 MiB blocks, each block's SHA-256, and the
/// SHA-256 of those digests one after another.
/// https://www.dropbox.com/developers/reference/content-hash
public final class DropboxContentHash {
    public static let blockSize = 4 * 1024 * 1024

    private var block = StreamingDigest(.sha256)
    private var inBlock = 0
    private var started = false
    private let overall = StreamingDigest(.sha256)

    public init() {}

    public func update(_ bytes: UnsafeRawBufferPointer) {
        var rest = bytes
        while !rest.isEmpty {
            let n = min(rest.count, Self.blockSize - inBlock)
            block.update(UnsafeRawBufferPointer(rebasing: rest[..<n]))
            inBlock += n
            started = true
            rest = UnsafeRawBufferPointer(rebasing: rest[n...])
            if inBlock == Self.blockSize { closeBlock() }
        }
    }

    private func closeBlock() {
        overall.update(block.finish())
        block = StreamingDigest(.sha256)
        inBlock = 0
    }

    /// The hash (Dropbox reports it as lower-case hex).
    public func finish() -> [UInt8] {
        if inBlock > 0 { closeBlock() }
        return overall.finish()
    }
}
