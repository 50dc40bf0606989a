/// What buying `gb` would do, worked out before anything is charged: the cost, the balance
/// after it (or the shortfall), the quota after it and the expiry. The storage page's preview
/// and confirm step show it; `StoragePurchases.buy` then charges by the same rules (the cost by
/// `StoragePurchases.cost`, the range and the expiry by the pricing), and the confirm form sends
/// the quoted cost as the expected one, so a price changed in between is refused, not charged.
public struct PurchaseQuote: Sendable, Equatable {
    public let gb: Int
    public let bytes: Int64
    public let cost: Money
    /// The balance now, in the pricing's currency.
    public let balance: Money
    /// The effective quota now, and once this purchase counts.
    public let quotaBytes: Int64
    public let quotaAfterBytes: Int64
    /// An admin override holds the quota: the purchase is recorded and counts once it is cleared.
    public let overridden: Bool
    /// nil: it never expires.
    public let expiresAt: Int64?
    public let validityDays: Int?

    /// Whether the balance pays for it.
    public var affordable: Bool { balance.minorUnits >= cost.minorUnits }
    /// The balance after paying; nil when it cannot pay.
    public var balanceAfter: Money? {
        affordable ? Money(minorUnits: balance.minorUnits - cost.minorUnits, currency: cost.currency) : nil
    }
    /// How much more the balance needs; nil when it pays.
    public var shortfall: Money? {
        affordable ? nil : Money(minorUnits: cost.minorUnits - balance.minorUnits, currency: cost.currency)
    }

    /// The quote for `gb` under `pricing`, for a user whose quota and balance are these, at `now`.
    /// Refused (`PurchaseRefusal.invalidAmount`, with `buy`'s messages) out of the pricing's
    /// range or past 64 bits.
    public static func make(gb: Int, pricing: StoragePricing, balance: Money, quota: UserQuota, now: Int64) throws -> PurchaseQuote {
        guard (pricing.minimumGB...pricing.maximumGB).contains(gb) else {
            throw PurchaseRefusal.invalidAmount("Buy from \(pricing.minimumGB) to \(pricing.maximumGB) GB at a time.")
        }
        guard let cost = StoragePurchases.cost(gb: gb, pricePerGB: pricing.pricePerGB),
              case (let bytes, false) = Int64(gb).multipliedReportingOverflow(by: StoragePurchases.bytesPerGB),
              case (let purchased, false) = quota.purchasedExtraBytes.addingReportingOverflow(bytes),
              case (let base, false) = (quota.planStorageBytes ?? pricing.freeStorageBytes).addingReportingOverflow(purchased) else {
            throw PurchaseRefusal.invalidAmount("That is more than can be bought at once.")
        }
        let after = quota.overrideBytes ?? base
        return PurchaseQuote(gb: gb, bytes: bytes, cost: cost, balance: balance, quotaBytes: quota.effectiveBytes, quotaAfterBytes: after,
                             overridden: quota.overrideBytes != nil, expiresAt: pricing.validityDays.map { now + Int64($0) * 86400 },
                             validityDays: pricing.validityDays)
    }

    /// The number of GB as a person typed it: ASCII digits only (no sign, no point, no
    /// full-width `１０`), at least 1 and within 64 bits; the pricing's range is `make`'s check.
    public static func gb(typed raw: String) throws -> Int {
        let text = raw.trimmingSpaces()
        guard !text.isEmpty else { throw ValidationError("gb", "Enter how many GB to buy.") }
        guard text.unicodeScalars.allSatisfy(\.isASCII) else {
            throw ValidationError("gb", "Type the number with the digits 0 to 9 (other scripts' digits, such as full-width ones, are not read).")
        }
        guard text.utf8.allSatisfy({ (48...57).contains($0) }) else {
            throw ValidationError("gb", "Enter a whole number of GB, digits only (no sign, point or spaces).")
        }
        guard let n = Int(text) else { throw ValidationError("gb", "That is more than can be bought at once.") }
        guard n >= 1 else { throw ValidationError("gb", "Enter at least 1 GB.") }
        return n
    }
}
