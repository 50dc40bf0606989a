import Checksums
import Sodium
import Testing

/// Dropbox's content hash, by its definition: SHA-256 over the SHA-256 of each 4 MiB block.
@Suite("Dropbox content hash")
struct ContentHashTests {
    func hash(_ bytes: [UInt8], pieces: Int) -> [UInt8] {
        let h = DropboxContentHash()
        var start = 0
        while start < bytes.count {
            let end = min(start + pieces, bytes.count)
            bytes[start..<end].withUnsafeBytes { h.update($0) }
            start = end
        }
        return h.finish()
    }

    @Test("empty, one partial block, and a block boundary crossed, fed whole or in odd pieces")
    func definition() {
        let sha = { (b: [UInt8]) in StreamingDigest.digest(.sha256, b) }
        #expect(hash([], pieces: 1) == sha([]))
        let small = (0..<1000).map { UInt8($0 % 251) }
        #expect(hash(small, pieces: 7) == sha(sha(small)))
        let block = DropboxContentHash.blockSize
        let big = (0..<(block + 1)).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let expected = sha(sha(Array(big[0..<block])) + sha([big[block]]))
        #expect(hash(big, pieces: big.count) == expected)
        #expect(hash(big, pieces: 65_537) == expected)
    }
}
