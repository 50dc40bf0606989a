import Intake
import Templates
import Web

/// What the storage page and its confirm step are built from, read once per request: the
/// pricing in force (nil: nothing is for sale), the signed-in user's quota in its parts and
/// their balance in the pricing's currency (the one `StoragePurchases.buy` checks).
struct StorageOffer {
    /// The newest saved pricing; nil while an admin has saved none (storage is not for sale).
    let priced: StoragePricing?
    /// The pricing in force, the defaults when none is saved (the free storage, the policy).
    let pricing: StoragePricing
    let quota: UserQuota
    let balance: Money
    let now: Int64

    static func load(_ context: RequestContext) throws -> StorageOffer {
        let userID = context.user!.id
        let priced = try context.stores.pricing.history(limit: 1).first?.pricing
        let pricing = try priced ?? context.stores.pricing.current()
        guard let quota = try context.stores.quotas.quota(userID: userID) else {
            throw HTTPError(.notFound, code: "not_found", "There is no such user.")
        }
        let currency = priced?.pricePerGB.currency ?? context.services.configuration.currency
        return StorageOffer(priced: priced, pricing: pricing, quota: quota,
                            balance: try context.stores.ledger.balance(userID: userID, currency: currency),
                            now: context.services.clock.now())
    }

    /// The quote for `gb` (nil while nothing is for sale); a refusal says what is wrong with `gb`.
    func quote(gb: Int) throws -> PurchaseQuote? {
        guard let priced else { return nil }
        return try PurchaseQuote.make(gb: gb, pricing: priced, balance: balance, quota: quota, now: now)
    }

    /// The page's words when nothing is for sale.
    static let notForSale = "Extra storage is not for sale yet: no pricing has been set."

    /// `in 3 days`, `tomorrow`, `today` for a time ahead of `now`.
    func daysUntil(_ time: Int64) -> String {
        let days = max(0, (time - now + 86399) / 86400)
        return days == 0 ? "today" : days == 1 ? "tomorrow" : "in \(days) days"
    }
}
