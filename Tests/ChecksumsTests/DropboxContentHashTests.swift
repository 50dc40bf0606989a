import Checksums
import Testing

/// Dropbox's content hash, by its definition: SHA-256 over the SHA-256 of each 4 MiB block.
@Suite("Dropbox content hash")
struct DropboxContentHashTests {
    func hash(_ bytes: [UInt8], pieces: Int) -> [UInt8] {
        let h = DropboxContentHash()
        feed(bytes, pieces: pieces) { h.update($0) }
        return h.finish()
    }

    /// 0, 7, 14, … (mod 256), two blocks and a byte long, made once for every test that slices it.
    static let counted = (0..<(2 * DropboxContentHash.blockSize + 1)).map { UInt8(truncatingIfNeeded: $0 &* 7) }

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

    /// The example on Dropbox's reference page (https://www.dropbox.com/developers/reference/content-hash):
    /// a 9,711,423-byte photograph in three blocks, whose block digests are published. The file is
    /// not vendored (9.7 MB), so this checks the last step as Dropbox states it — the SHA-256 of the
    /// 96 bytes of block digests — which is what `DropboxContentHash` feeds `overall`.
    @Test("Dropbox's published example: the three block digests give the published content hash")
    func publishedExample() {
        let blocks = [
            "2a846fa617c3361fc117e1c5c1e1838c336b6a5cef982c1a2d9bdf68f2f1992a",
            "c68469027410ea393eba6551b9fa1e26db775f00eae70a0c3c129a0011a39cf9",
            "7376192de020925ce6c5ef5a8a0405e931b0a9a8c75517aacd9ca24a8a56818b",
        ]
        let concatenated = blocks.flatMap { text in
            stride(from: 0, to: text.count, by: 2).map { i -> UInt8 in
                let start = text.index(text.startIndex, offsetBy: i)
                return UInt8(text[start..<text.index(start, offsetBy: 2)], radix: 16)!
            }
        }
        #expect(concatenated.count == 96)
        #expect(hex(StreamingDigest.digest(.sha256, concatenated)) == "485291fa0ee50c016982abbfa943957bcd231aae0492ccbaa22c58e3997b35e0")
    }

    /// Content hashes of the first `length` bytes of 0, 7, 14, … (mod 256), computed with Python's
    /// hashlib by the definition, around the 4 MiB block boundary: no block, a partial block, a
    /// block one short, exactly one block (no empty second block), one byte into the second, two
    /// whole blocks, one byte into the third.
    @Test("pinned values around the 4 MiB block boundary, fed whole and in odd pieces", arguments: [
        (0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        (1, "1406e05881e299367766d313e26c05564ec91bf721d31726bd6e46e60689539a"),
        (4 * 1024 * 1024 - 1, "a42216f52496b36635116476fb507232a2e8bbddd2931033beadbb2f868664e8"),
        (4 * 1024 * 1024, "64836a26740b83c57ab984dd7417e369e3a893d646ff70ead1e3d7d0a7589088"),
        (4 * 1024 * 1024 + 1, "043edf8d10056ba83d6c73177666f919f3e3235d3a2472dc370bfd398dcbcc02"),
        (8 * 1024 * 1024, "9ef5ce854573292f9754ba00432e941715aad8cc7e1cda0ff6275d1afb3ae8ad"),
        (8 * 1024 * 1024 + 1, "e07d8c5096c01aeffb71292a9fd6f92c96323dbe92662d8a5a37eaf078b64a12"),
    ])
    func pinned(length: Int, expected: String) {
        let bytes = Array(Self.counted.prefix(length))
        #expect(hex(hash(bytes, pieces: max(length, 1))) == expected, "whole")
        #expect(hex(hash(bytes, pieces: 1_048_573)) == expected, "in pieces of 1,048,573 bytes")
    }
}
