import Intake
import Sodium
import Web

/// `POST /api/v1/storage/purchase` with `Idempotency-Key` and `{"gb":N}` (optionally
/// `"expectedCostMinor"`): buys extra storage from the balance. The first answer to a key is
/// kept and replayed byte for byte to every repeat of the same request; the same key with
/// another body is `422 idempotency_mismatch`. `201` with the purchase, the new balance and the
/// new quota; `402 insufficient_balance` (with the shortfall), `409 pricing_changed`, `422` for a
/// bad `gb`, `503` while no pricing is set.
enum StorageAPIPurchase {
    static func handle(_ context: RequestContext) throws -> Response {
        guard let key = context.request.headers["idempotency-key"], (1...255).contains(key.utf8.count),
              key.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
            throw HTTPError.badRequest("Send an Idempotency-Key header (1 to 255 visible ASCII characters), new for each purchase.",
                                       code: "idempotency_key_required")
        }
        var body = JSONFields(try JSONBody.object(context))
        let gb = body.int("gb")
        let expected = body.int("expectedCostMinor")
        do { try body.finish() } catch let errors as FieldErrors { return try FormAnswer.invalid(context, errors) { .json([:]) } }
        guard let gb, let wanted = Int(exactly: gb), wanted >= 1 else {
            var errors = FieldErrors()
            errors["gb"] = "Send the number of GB to buy, a whole number."
            return try FormAnswer.invalid(context, errors) { .json([:]) }
        }
        let userID = context.user!.id
        let hash = Sodium.hex(Digest.sha256(Array("gb=\(wanted);expected=\(expected.map(String.init) ?? "-")".utf8)))
        let answer: IdempotencyKeys.Answer
        do {
            answer = try context.stores.idempotencyKeys.answer(userID: userID, scope: "storage.purchase", key: key, requestHash: hash) {
                do {
                    let done = try context.stores.purchases.buy(userID: userID, gb: wanted, expectedCostMinor: expected, by: context.actor)
                    let json: JSONValue = ["purchase": PurchaseJSON.purchase(done.purchase), "balance": PurchaseJSON.balance(done.balance),
                                           "quota": done.quota.map(PurchaseJSON.quota) ?? .null]
                    return (IdempotencyKeys.Answer(status: 201, body: json.serialized()), true)
                } catch PurchaseRefusal.insufficientBalance(let balance, let cost) {
                    let short = Money(minorUnits: cost.minorUnits - balance.minorUnits, currency: cost.currency)
                    let json = PurchaseJSON.error("insufficient_balance", "This costs \(cost); the balance is \(balance): \(short) more is needed.",
                                                  [("shortfall", .string(short.decimalText)), ("shortfallMinor", .int(short.minorUnits)),
                                                   ("currency", .string(cost.currency.code))])
                    return (IdempotencyKeys.Answer(status: 402, body: json.serialized()), true)
                } catch PurchaseRefusal.pricingChanged(_, let current) {
                    let json = PurchaseJSON.error("pricing_changed", "The price is now \(current); nothing was charged.",
                                                  [("costMinor", .int(current.minorUnits)), ("currency", .string(current.currency.code))])
                    return (IdempotencyKeys.Answer(status: 409, body: json.serialized()), true)
                }
            }
        } catch is IdempotencyKeys.Mismatch {
            throw HTTPError(.unprocessableContent, code: "idempotency_mismatch",
                            "This Idempotency-Key was used with another request; use a new key for a new purchase.")
        } catch PurchaseRefusal.noPricing {
            throw HTTPError(.serviceUnavailable, code: "no_pricing", "Storage is not for sale yet: no pricing has been set.")
        } catch PurchaseRefusal.invalidAmount(let message) {
            throw HTTPError(.unprocessableContent, code: "invalid_gb", message)
        }
        var response = Response(status: HTTPStatus(answer.status, answer.status == 201 ? "Created" : answer.status == 402 ? "Payment Required" : "Conflict"),
                                headers: ["content-type": "application/json"], body: .bytes(answer.body))
        response.headers.set("cache-control", "no-store")
        return response
    }
}
