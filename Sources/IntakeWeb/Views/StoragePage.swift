import Intake
import Templates
import Web

/// `dashboard/storage`: the user's usage against their quota in its parts (plan or free
/// storage, purchases, an admin override), the balance, the pricing and the purchase form (its
/// value and messages kept after a refused preview or post), the purchases with their expiry,
/// and notices for storage about to expire and for an account over its quota.
enum StoragePage {
    static func render(_ context: RequestContext, gbText: String = "", errors: FieldErrors = FieldErrors(), formError: String? = nil,
                       status: HTTPStatus = .ok) throws -> Response {
        let offer = try StorageOffer.load(context)
        let purchases = try context.stores.purchases.list(userID: context.user!.id)
        let soon = purchases.filter { p in
            p.expiredAt == nil && p.expiresAt.map { $0 <= offer.now + StoragePurchases.reminderSeconds } == true
        }
        var data: [String: TemplateValue] = [
            "usage": usage(offer.quota, pricing: offer.pricing),
            "balance": .string(offer.balance.description),
            "gb": .string(gbText),
            "errors": FormFieldView.errors(errors),
            "formError": formError.map { .string($0) } ?? .null,
            "hasPurchases": .bool(!purchases.isEmpty),
            "purchases": .list(purchases.map { row($0, offer: offer) }),
            "expiring": .list(soon.map { p in
                .string("The \(p.gb) GB bought on \(UTCDate.day(p.startsAt)) expire on \(UTCDate.day(p.expiresAt!)) (\(offer.daysUntil(p.expiresAt!))); "
                        + "your quota goes down by \(ByteSize(bytes: p.bytes)) then. Buy more to keep the room.")
            }),
            "notForSale": .string(StorageOffer.notForSale),
        ]
        if offer.quota.isOver {
            var text = "You are storing \(ByteSize(bytes: offer.quota.usedBytes)), over your quota of \(ByteSize(bytes: offer.quota.effectiveBytes)): "
                + "new uploads to your portals are refused until you are within it (delete files or buy more storage)."
            if let grace = offer.pricing.overQuota.graceDays {
                if let since = offer.quota.overQuotaSince {
                    text += " If you are still over it on \(UTCDate.day(since + Int64(grace) * 86400)), your oldest files will be deleted until you are within it"
                        + " (never one younger than \(grace) day\(grace == 1 ? "" : "s"))."
                } else {
                    text += " If you stay over quota for \(grace) day\(grace == 1 ? "" : "s"), your oldest files will be deleted until you are within it."
                }
            }
            data["overQuota"] = .string(text)
        }
        if let plan = offer.quota.planName, let price = offer.quota.planPrice {
            if let grace = offer.quota.planGraceUntil {
                data["planNotice"] = .string("The \(price) renewal of your \(plan) plan is unpaid. Top up your balance by \(UTCDate.minute(grace)) "
                                             + "to keep the plan; after that your account falls back to the free storage.")
            } else if let renews = offer.quota.planRenewsAt {
                data["planRenewal"] = .string("Your \(plan) plan renews on \(UTCDate.day(renews)) for \(price) from your balance.")
            }
        }
        if let priced = offer.priced {
            data["offer"] = [
                "price": .string(priced.pricePerGB.description),
                "priceMinor": .int(priced.pricePerGB.minorUnits),
                "exponent": .int(Int64(priced.pricePerGB.currency.exponent)),
                "currency": .string(priced.pricePerGB.currency.prefix),
                "balanceMinor": .int(offer.balance.minorUnits),
                "min": .int(Int64(priced.minimumGB)), "max": .int(Int64(priced.maximumGB)),
                "validity": .string(priced.validityDays.map { "Each purchase lasts \($0) day\($0 == 1 ? "" : "s") from the day it is bought." }
                                    ?? "Purchases never expire."),
                "override": offer.quota.overrideBytes.map { .string(ByteSize(bytes: $0).description) } ?? .null,
            ]
        }
        return try PageView.render(context, "dashboard/storage", title: "Storage usage", status: status, data)
    }

    /// The usage bar and the quota's parts; the parts bar shows how the quota is made up.
    static func usage(_ q: UserQuota, pricing: StoragePricing) -> TemplateValue {
        let percent = q.usage.isInfinite ? 100 : min(100, Int((q.usage * 100).rounded()))
        let base = q.planStorageBytes ?? pricing.freeStorageBytes
        var basePercent = 0, purchasedPercent = 0
        if q.overrideBytes == nil, q.effectiveBytes > 0 {
            basePercent = min(100, Int((Double(base) / Double(q.effectiveBytes) * 100).rounded()))
            purchasedPercent = q.purchasedExtraBytes > 0 ? 100 - basePercent : 0
        }
        return [
            "used": .string(ByteSize(bytes: q.usedBytes).description),
            "quota": .string(ByteSize(bytes: q.effectiveBytes).description),
            "percent": .int(Int64(percent)),
            "percentText": .string(UsagePercent.text(q)),
            "over": .bool(q.isOver), "near": .bool(q.isNear),
            "baseLabel": .string(q.planName.map { "Plan \($0)" } ?? "Free storage"),
            "base": .string(ByteSize(bytes: base).description),
            "purchased": .string(ByteSize(bytes: q.purchasedExtraBytes).description),
            "override": q.overrideBytes.map { .string(ByteSize(bytes: $0).description) } ?? .null,
            "basePercent": .int(Int64(basePercent)), "purchasedPercent": .int(Int64(purchasedPercent)),
        ]
    }

    /// One purchase: an expired one is marked, one about to expire says when.
    static func row(_ p: StoragePurchase, offer: StorageOffer) -> TemplateValue {
        let state: String
        if let expired = p.expiredAt {
            state = "expired on \(UTCDate.day(expired))"
        } else if let expires = p.expiresAt, expires <= offer.now + StoragePurchases.reminderSeconds {
            state = "expires \(offer.daysUntil(expires))"
        } else {
            state = "active"
        }
        return [
            "gb": .string("\(p.gb) GB"), "cost": .string(p.cost.description), "bought": .string(UTCDate.day(p.startsAt)),
            "expires": .string(p.expiresAt.map(UTCDate.day) ?? "never"), "state": .string(state),
            "expired": .bool(p.expiredAt != nil),
        ]
    }
}
