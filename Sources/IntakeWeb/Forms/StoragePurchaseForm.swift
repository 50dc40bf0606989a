import Intake
import Sodium
import Web

/// The storage page's purchase form: `gb` as typed (the preview's query, the confirm post);
/// on the confirm post also the cost the confirm page stated (`expected_cost_minor`) and the
/// idempotency key it was rendered with (`key`), so a double-click or a resubmitted confirm
/// form is one purchase.
struct StoragePurchaseForm {
    let gbText: String
    let expectedCostText: String?
    let keyText: String?

    init(_ fields: FormFields) {
        gbText = fields["gb"] ?? ""
        expectedCostText = fields["expected_cost_minor"]
        keyText = fields["key"]
    }

    /// The form keys' scope in `IdempotencyKeys`: their kept answer is the flash of the
    /// purchase (the API's scope keeps JSON), so the two never replay each other's.
    static let keyScope = "storage.purchase.form"

    /// A key for one rendering of the confirm form: 128 random bits, hex.
    static func newKey() -> String { Sodium.hex(Sodium.randomBytes(16)) }

    /// The number of GB, or the field's error.
    func gb() throws -> Int { try PurchaseQuote.gb(typed: gbText) }

    /// What the confirm form must carry beside `gb`: the stated cost and the key (as the API
    /// takes them: 1 to 255 visible ASCII characters). nil when either is missing or malformed:
    /// the post did not come from a confirm page, and nothing may be charged for it.
    func confirmation() -> (expectedCostMinor: Int64, key: String)? {
        guard let costText = expectedCostText, !costText.isEmpty, costText.utf8.count <= 19,
              costText.utf8.allSatisfy({ (48...57).contains($0) }), let cost = Int64(costText),
              let key = keyText, (1...255).contains(key.utf8.count), key.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else { return nil }
        return (cost, key)
    }

    /// The request a key stands for: the same key with another amount or cost is refused.
    static func requestHash(gb: Int, expectedCostMinor: Int64) -> String {
        Sodium.hex(Digest.sha256(Array("gb=\(gb);expected=\(expectedCostMinor)".utf8)))
    }
}
