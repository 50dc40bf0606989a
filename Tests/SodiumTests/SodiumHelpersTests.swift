import Testing
import Sodium

@Suite("Random bytes, constant-time comparison, hex")
struct SodiumHelpersTests {
    @Test("random bytes come in the length asked for, and two draws differ")
    func randomBytes() {
        for count in [0, 1, 16, 22, 32, 64, 1000] {
            #expect(Sodium.randomBytes(count).count == count)
        }
        let draws = (0..<100).map { _ in Sodium.randomBytes(32) }
        #expect(Set(draws.map(Sodium.hex)).count == 100, "100 draws of 32 bytes, all different")
        // Not all zero, and every byte value possible: over 64 KiB, each of the 256 appears.
        #expect(Set(Sodium.randomBytes(65_536)).count == 256)
    }

    @Test("constant-time equality: equal only for the same bytes and the same length")
    func constantTimeEqual() {
        let a = Array("session-token-value".utf8)
        #expect(Sodium.constantTimeEqual(a, a))
        #expect(Sodium.constantTimeEqual([], []))
        var last = a
        last[last.count - 1] ^= 1
        var first = a
        first[0] ^= 0x80
        #expect(!Sodium.constantTimeEqual(a, last))
        #expect(!Sodium.constantTimeEqual(a, first))
        #expect(!Sodium.constantTimeEqual(a, Array(a.dropLast())), "a prefix is not equal")
        #expect(!Sodium.constantTimeEqual(a, a + [0]))
        #expect(!Sodium.constantTimeEqual([], [0]))
    }

    @Test("hex: lower-case out, either case in, every byte round-trips")
    func hex() {
        #expect(Sodium.hex([]) == "")
        #expect(Sodium.hex([0x00, 0x0f, 0xa0, 0xff]) == "000fa0ff")
        #expect(Sodium.unhex("000FA0ff") == [0x00, 0x0f, 0xa0, 0xff])
        #expect(Sodium.unhex("") == [])
        let all = (0...255).map(UInt8.init)
        #expect(Sodium.unhex(Sodium.hex(all)) == all)
    }

    @Test("hex refuses an odd length and anything not a hex digit", arguments: ["0", "abc", "0g", "g0", " 00", "0x00", "-1", "é"])
    func hexRefusals(text: String) {
        #expect(Sodium.unhex(text) == nil)
    }
}
