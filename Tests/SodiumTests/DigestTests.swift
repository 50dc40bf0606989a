import Testing
import Sodium

@Suite("SHA-256, HMAC-SHA-256 and base64url")
struct DigestTests {
    @Test("SHA-256 of the FIPS 180-2 examples and of 100,000 counted bytes", arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
    ])
    func sha256(input: String, expected: String) {
        #expect(Sodium.hex(Digest.sha256(Array(input.utf8))) == expected)
    }

    /// The same bytes and digest as the Checksums tests' streaming SHA-256, so the two SHA-256
    /// implementations (libsodium's here, OpenSSL's there) are held to one value.
    @Test("SHA-256 of 100,000 bytes counting 0…250 again and again")
    func sha256Long() {
        let data = (0..<100_000).map { UInt8($0 % 251) }
        #expect(Sodium.hex(Digest.sha256(data)) == "cd2df694e424bc7968cc37f47751019e5ca0cd1bdf2e479ea537c3a1c32ee1aa")
    }

    @Test("HMAC-SHA-256 of the RFC 4231 test cases, a key longer than a block included", arguments: [
        ([UInt8](repeating: 0x0b, count: 20), "Hi There", "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
        (Array("Jefe".utf8), "what do ya want for nothing?", "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
        ([UInt8](repeating: 0xaa, count: 131), "Test Using Larger Than Block-Size Key - Hash Key First",
         "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
    ])
    func hmac(key: [UInt8], message: String, expected: String) {
        #expect(Sodium.hex(Digest.hmacSHA256(key: key, Array(message.utf8))) == expected)
    }

    @Test("base64url: the URL-safe alphabet, no padding, every length round-trips")
    func base64URL() {
        #expect(Digest.base64URL([]) == "")
        #expect(Digest.base64URL(Array("Intake".utf8)) == "SW50YWtl")
        #expect(Digest.base64URL([0xfb, 0xff]) == "-_8", "- and _ for + and /, no =")
        #expect(Digest.fromBase64URL("-_8") == [0xfb, 0xff])
        var generator = SystemRandomNumberGenerator()
        for length in 0...67 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let text = Digest.base64URL(bytes)
            #expect(!text.contains("=") && !text.contains("+") && !text.contains("/"))
            #expect(Digest.fromBase64URL(text) == bytes, "\(length) bytes")
        }
    }

    @Test("base64url refuses the standard alphabet, padding and stray characters", arguments: ["+_8", "-/8", "-_8=", "SW50 YWtl", "SW50YWtl!", "A"])
    func base64URLRefusals(text: String) {
        #expect(Digest.fromBase64URL(text) == nil)
    }
}
