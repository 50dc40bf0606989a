import Intake

/// The words both steps use for a quote, so the preview says what the confirm page charges.
enum PurchaseQuoteText {
    /// "10 GB for 5.00 USD, from your balance of 20.00 USD, leaving 15.00 USD".
    static func charge(_ q: PurchaseQuote) -> String {
        "\(q.gb) GB for \(q.cost), from your balance of \(q.balance)" + (q.balanceAfter.map { ", leaving \($0)" } ?? "")
    }

    /// "your quota becomes 15 GB" (or why it does not change now).
    static func quota(_ q: PurchaseQuote) -> String {
        q.overridden
            ? "your quota stays \(ByteSize(bytes: q.quotaAfterBytes)) while the administrator's override is set (the purchase counts once it is cleared)"
            : "your quota becomes \(ByteSize(bytes: q.quotaAfterBytes))"
    }

    /// "expires on 2027-12-01 (365 days)" or "never expires".
    static func expiry(_ q: PurchaseQuote) -> String {
        guard let expires = q.expiresAt, let days = q.validityDays else { return "never expires" }
        return "expires on \(UTCDate.day(expires)) (\(days) day\(days == 1 ? "" : "s"))"
    }

    /// The whole sentence the confirm page states.
    static func sentence(_ q: PurchaseQuote) -> String {
        "\(charge(q)); \(quota(q)); \(expiry(q))."
    }

    /// "This costs 50.00 USD and your balance is 20.00 USD: 30.00 USD more is needed."
    static func shortfall(cost: Money, balance: Money) -> String {
        "This costs \(cost) and your balance is \(balance): \(Money(minorUnits: cost.minorUnits - balance.minorUnits, currency: cost.currency)) more is needed."
    }
}
