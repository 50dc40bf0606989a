import Checksums
import Testing

@Suite("Streaming digests (OpenSSL EVP)")
struct StreamingDigestTests {
    @Test("known vectors: FIPS 180-2 for SHA-256 and SHA-1, RFC 1321 for MD5", arguments: [
        (StreamingDigest.Algorithm.sha256, "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        (.sha256, "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        (.sha256, "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
        (.sha1, "", "da39a3ee5e6b4b0d3255bfef95601890afd80709"),
        (.sha1, "abc", "a9993e364706816aba3e25717850c26c9cd0d89d"),
        (.sha1, "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "84983e441c3bd26ebaae4aa1f95129e5e54670f1"),
        (.md5, "", "d41d8cd98f00b204e9800998ecf8427e"),
        (.md5, "abc", "900150983cd24fb0d6963f7d28e17f72"),
        (.md5, "message digest", "f96b697d7cb7938d525a2f31aaf161d0"),
    ])
    func vectors(algorithm: StreamingDigest.Algorithm, input: String, expected: String) {
        #expect(hex(StreamingDigest.digest(algorithm, Array(input.utf8))) == expected)
    }

    @Test("SHA-256 of a million a's (FIPS 180-2), fed 1,000 at a time")
    func millionAs() {
        let digest = StreamingDigest(.sha256)
        let thousand = [UInt8](repeating: UInt8(ascii: "a"), count: 1000)
        for _ in 0..<1000 { digest.update(thousand) }
        #expect(hex(digest.finish()) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    /// The SHA-256 pinned here is the one the Sodium tests pin for libsodium's SHA-256 of the same
    /// bytes, so the two implementations agree.
    @Test("digests over pieces equal the whole's; SHA-256 agrees with libsodium's; known vectors for SHA-1 and MD5")
    func streamingHash() {
        let data = (0..<100_000).map { UInt8($0 % 251) }
        let hasher = StreamingDigest(.sha256)
        for start in stride(from: 0, to: data.count, by: 7919) {
            data[start..<min(start + 7919, data.count)].withUnsafeBytes { hasher.update($0) }
        }
        #expect(hex(hasher.finish()) == "cd2df694e424bc7968cc37f47751019e5ca0cd1bdf2e479ea537c3a1c32ee1aa")
        #expect(hex(StreamingDigest.digest(.sha1, Array("abc".utf8))) == "a9993e364706816aba3e25717850c26c9cd0d89d")
        #expect(hex(StreamingDigest.digest(.md5, Array("abc".utf8))) == "900150983cd24fb0d6963f7d28e17f72")
    }

    @Test("any cutting into pieces, empty pieces included, gives the one-shot digest", arguments: [
        StreamingDigest.Algorithm.sha256, .sha1, .md5,
    ])
    func pieces(algorithm: StreamingDigest.Algorithm) {
        let data = (0..<100_000).map { UInt8($0 % 251) }
        let whole = StreamingDigest.digest(algorithm, data)
        for piece in [1, 3, 55, 63, 64, 65, 127, 4096, 7919, 99_999, 100_000] {
            let digest = StreamingDigest(algorithm)
            feed(data, pieces: piece) {
                digest.update($0)
                digest.update(UnsafeRawBufferPointer(start: nil, count: 0))
            }
            #expect(digest.finish() == whole, "pieces of \(piece)")
        }
    }
}
