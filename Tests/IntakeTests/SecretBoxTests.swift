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
