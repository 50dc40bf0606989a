import Intake
import Web

/// `POST /dashboard/storage/purchase` (`gb`, `expected_cost_minor`, `key`, the CSRF token): the
/// confirm step's post. The same purchase as the API's (`StoragePurchases.buy`, the stated cost
/// as the expected one) behind the same idempotency keys, in a scope of the form's own: the
/// first success is kept, and every repeat of the form — a double-click, a resubmission, twenty
/// at once — replays it: one charge, and each answer the same 303 to the storage page with the
/// same flash. Refusals are not kept (nothing was charged; a repeat is decided afresh): the
/// amount out of range, nothing for sale, the price changed (the confirm step again at the new
/// price), the balance short (the confirm step again with the shortfall).
enum StoragePurchaseConfirm {
    static let paymentRequired = HTTPStatus(402, "Payment Required")

    static func handle(_ context: RequestContext) throws -> Response {
        let form = StoragePurchaseForm(context.formFields)
        var errors = FieldErrors()
        guard let gb = errors.capture("gb", form.gb) else {
            return try StoragePage.render(context, gbText: form.gbText, errors: errors, status: .unprocessableContent)
        }
        guard let (expected, key) = form.confirmation() else {
            return try StoragePage.render(context, gbText: form.gbText,
                                          formError: "This purchase did not come from the confirm step, so nothing was charged. Choose Review, check the charge, then Confirm.",
                                          status: .badRequest)
        }
        let userID = context.user!.id
        do {
            let answer = try context.stores.idempotencyKeys.answer(
                userID: userID, scope: StoragePurchaseForm.keyScope, key: key,
                requestHash: StoragePurchaseForm.requestHash(gb: gb, expectedCostMinor: expected)) {
                let done = try context.stores.purchases.buy(userID: userID, gb: gb, expectedCostMinor: expected, by: context.actor)
                return (IdempotencyKeys.Answer(status: 303, body: Array(message(done.purchase, balance: done.balance, quota: done.quota).utf8)), true)
            }
            return FormAnswer.saved(context, String(decoding: answer.body, as: UTF8.self), redirect: "/dashboard/storage")
        } catch is IdempotencyKeys.Mismatch {
            return try StoragePage.render(context, gbText: form.gbText,
                                          formError: "This confirm form was already used for another amount, so nothing more was charged. Review the purchase and confirm it again.",
                                          status: .unprocessableContent)
        } catch PurchaseRefusal.noPricing {
            return try StoragePage.render(context, gbText: form.gbText, formError: StorageOffer.notForSale, status: .conflict)
        } catch PurchaseRefusal.invalidAmount(let message) {
            errors["gb"] = message
            return try StoragePage.render(context, gbText: form.gbText, errors: errors, status: .unprocessableContent)
        } catch PurchaseRefusal.pricingChanged(let shown, let current) {
            let notice = "The price changed since the confirm step was shown: \(gb) GB now cost \(current) (it said \(Money(minorUnits: shown, currency: current.currency))). "
                + "Nothing was charged; confirm again to buy at the new price."
            return try again(context, gb: gb, gbText: form.gbText, notice: notice, status: .conflict)
        } catch PurchaseRefusal.insufficientBalance(let balance, let cost) {
            let notice = "Nothing was charged. " + PurchaseQuoteText.shortfall(cost: cost, balance: balance)
            return try again(context, gb: gb, gbText: form.gbText, notice: notice, status: paymentRequired)
        }
    }

    /// The confirm step again, as things are now, with `notice` saying why; the storage page if
    /// the amount no longer fits the pricing (or nothing is for sale any more).
    static func again(_ context: RequestContext, gb: Int, gbText: String, notice: String, status: HTTPStatus) throws -> Response {
        do {
            guard let quote = try StorageOffer.load(context).quote(gb: gb) else {
                return try StoragePage.render(context, gbText: gbText, formError: StorageOffer.notForSale, status: .conflict)
            }
            return try StoragePurchaseConfirmPage.render(context, quote: quote, notice: notice, status: status)
        } catch PurchaseRefusal.invalidAmount(let message) {
            var errors = FieldErrors()
            errors["gb"] = message
            return try StoragePage.render(context, gbText: gbText, errors: errors, formError: notice, status: status)
        }
    }

    /// The flash after a purchase, kept with the key so every repeat shows the same.
    static func message(_ p: StoragePurchase, balance: Money, quota: UserQuota?) -> String {
        var text = "Bought \(p.gb) GB for \(p.cost)" + (p.expiresAt.map { ", until \(UTCDate.day($0))" } ?? ", never expiring") + ". "
        if let quota {
            text += quota.overrideBytes != nil
                ? "Your quota stays \(ByteSize(bytes: quota.effectiveBytes)) while the administrator's override is set. "
                : "Your quota is now \(ByteSize(bytes: quota.effectiveBytes)). "
        }
        return text + "Your balance is \(balance)."
    }
}
