import Sodium
import Testing

@Suite("Sealed secrets")
struct SecretBoxTests {
    let key = Sodium.randomBytes(32)

    @Test("a sealed token opens with its key and context only; any changed byte is refused")
    func roundTrip() throws {
        let sealed = try SecretBox.seal("ya29.refresh-token", key: key, context: "storage_account:1:refresh_token")
        #expect(!String(decoding: sealed, as: UTF8.self).contains("ya29"))
        #expect(try SecretBox.openText(sealed, key: key, context: "storage_account:1:refresh_token") == "ya29.refresh-token")
        #expect(throws: SodiumError.self) { try SecretBox.open(sealed, key: Sodium.randomBytes(32), context: "storage_account:1:refresh_token") }
        #expect(throws: SodiumError.self) { try SecretBox.open(sealed, key: key, context: "storage_account:2:refresh_token") }
        for i in [0, 30, sealed.count - 1] {
            var tampered = sealed
            tampered[i] ^= 1
            #expect(throws: SodiumError.self) { try SecretBox.open(tampered, key: key, context: "storage_account:1:refresh_token") }
        }
        #expect(throws: SodiumError.self) { try SecretBox.open([1, 2, 3], key: key, context: "x") }
        let again = try SecretBox.seal("ya29.refresh-token", key: key, context: "storage_account:1:refresh_token")
        #expect(again != sealed, "a fresh nonce every time")
    }
}

extension SecretBoxTests {
    @Test("the sealed form is a 24-byte nonce, the ciphertext and a 16-byte tag; empty and binary secrets round-trip")
    func shape() throws {
        for plaintext in [[], [0], Array(0...255), Sodium.randomBytes(10_000)] as [[UInt8]] {
            let sealed = try SecretBox.seal(plaintext, key: key, context: "c")
            #expect(sealed.count == 24 + plaintext.count + 16)
            #expect(try SecretBox.open(sealed, key: key, context: "c") == plaintext)
        }
        #expect(try SecretBox.openText(SecretBox.seal("", key: key, context: "c"), key: key, context: "c") == "")
    }

    @Test("a key that is not 32 bytes is refused when sealing and when opening")
    func keySize() throws {
        #expect(Sodium.secretKeyBytes == 32)
        let sealed = try SecretBox.seal("x", key: key, context: "c")
        for wrong in [[], Array(key.prefix(31)), key + [0]] as [[UInt8]] {
            #expect(throws: SodiumError.self) { try SecretBox.seal("x", key: wrong, context: "c") }
            #expect(throws: SodiumError.self) { try SecretBox.open(sealed, key: wrong, context: "c") }
        }
    }

    @Test("a sealed value cut short or lengthened is refused")
    func truncation() throws {
        let sealed = try SecretBox.seal("refresh", key: key, context: "c")
        for cut in [0, 1, 24, 24 + 16 - 1, sealed.count - 1] {
            #expect(throws: SodiumError.self, "\(cut) bytes") { try SecretBox.open(Array(sealed.prefix(cut)), key: key, context: "c") }
        }
        #expect(throws: SodiumError.self) { try SecretBox.open(sealed + [0], key: key, context: "c") }
    }
}
