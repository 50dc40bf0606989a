import Testing
import Sodium

@Suite("argon2id password hashes")
struct PasswordHashTests {
    @Test("argon2id hashes verify, refuse wrong passwords, and carry their own salt")
    func hashing() throws {
        let a = try PasswordHash.hash("correct horse battery")
        let b = try PasswordHash.hash("correct horse battery")
        #expect(a.hasPrefix("$argon2id$"))
        #expect(a != b)
        #expect(PasswordHash.verify("correct horse battery", against: a))
        #expect(!PasswordHash.verify("correct horse batterY", against: a))
        #expect(!PasswordHash.verify("anything", against: "not a hash"))
        #expect(!PasswordHash.needsRehash(a))
        #expect(!PasswordHash.decoy.isEmpty && !PasswordHash.verify("", against: PasswordHash.decoy))
    }

    @Test("the password is its UTF-8 bytes, all of them: non-ASCII, empty, and a NUL inside are each their own password")
    func bytes() throws {
        let accented = try PasswordHash.hash("pässwörd ✓")
        #expect(PasswordHash.verify("pässwörd ✓", against: accented))
        #expect(!PasswordHash.verify("password ✓", against: accented))

        let empty = try PasswordHash.hash("")
        #expect(PasswordHash.verify("", against: empty) && !PasswordHash.verify(" ", against: empty))

        let withNUL = try PasswordHash.hash("abc\u{0}def")
        #expect(PasswordHash.verify("abc\u{0}def", against: withNUL))
        #expect(!PasswordHash.verify("abc", against: withNUL), "not cut at the NUL as a C string would be")
    }

    @Test("a hash made with other costs still verifies and asks to be rehashed; a damaged one verifies nothing")
    func parameters() throws {
        let current = try PasswordHash.hash("correct horse battery")
        // The encoded form is $argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$salt$hash; one pass more
        // is another cost (the digest no longer matches, but the parameters are read first).
        let parts = current.split(separator: "$", omittingEmptySubsequences: false)
        try #require(parts.count == 6 && parts[3].contains(",t="), "\(current)")
        let costs = parts[3].split(separator: ",").map { field -> String in
            guard field.hasPrefix("t="), let passes = Int(field.dropFirst(2)) else { return String(field) }
            return "t=\(passes + 1)"
        }.joined(separator: ",")
        var other = parts.map(String.init)
        other[3] = costs
        #expect(PasswordHash.needsRehash(other.joined(separator: "$")))
        #expect(!PasswordHash.verify("correct horse battery", against: other.joined(separator: "$")))

        var damaged = Array(current.utf8)
        damaged[damaged.count - 3] = damaged[damaged.count - 3] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        #expect(!PasswordHash.verify("correct horse battery", against: String(decoding: damaged, as: UTF8.self)))
        #expect(!PasswordHash.verify("correct horse battery", against: ""))
    }
}
