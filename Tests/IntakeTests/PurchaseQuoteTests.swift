import Testing
@testable import Intake

@Suite("Purchase quotes: what the storage page states before anything is charged")
struct PurchaseQuoteTests {
    let usd = Currency(code: "USD")!
    let jpy = Currency(code: "JPY")!
    let kwd = Currency(code: "KWD")!

    func pricing(_ price: Money, min: Int = 1, max: Int = 100, validity: Int? = 30) -> StoragePricing {
        StoragePricing(pricePerGB: price, minimumGB: min, maximumGB: max, validityDays: validity, freeStorageBytes: 5_000_000_000,
                       overQuota: .blockUploads)
    }

    func quota(plan: Int64? = nil, purchased: Int64 = 0, override: Int64? = nil) -> UserQuota {
        UserQuota(userID: 1, email: "a@example.com", name: "A", planName: plan == nil ? nil : "Pro", planStorageBytes: plan,
                  purchasedExtraBytes: purchased, overrideBytes: override,
                  effectiveBytes: QuotaRule.effectiveQuota(overrideBytes: override, planStorageBytes: plan, freeStorageBytes: 5_000_000_000,
                                                           purchasedExtraBytes: purchased),
                  usedBytes: 0)
    }

    @Test("cost, balance after and shortfall are exact in 0, 2 and 3 decimal currencies, and agree with StoragePurchases.cost", arguments: [
        ("USD", 499, 3, 2000, "$14.97", "$5.03", nil),
        ("USD", 500, 4, 2000, "$20.00", "$0.00", nil),
        ("USD", 500, 5, 2000, "$25.00", nil, "$5.00"),
        ("JPY", 120, 10, 1000, "¥1200", nil, "¥200"),
        ("KWD", 1234, 2, 5000, "KWD\u{00A0}2.468", "KWD\u{00A0}2.532", nil),
    ] as [(String, Int64, Int, Int64, String, String?, String?)])
    func money(code: String, price: Int64, gb: Int, balance: Int64, cost: String, after: String?, short: String?) throws {
        let currency = try #require(Currency(code: code))
        let q = try PurchaseQuote.make(gb: gb, pricing: pricing(Money(minorUnits: price, currency: currency)),
                                       balance: Money(minorUnits: balance, currency: currency), quota: quota(), now: 0)
        #expect(q.cost == StoragePurchases.cost(gb: gb, pricePerGB: Money(minorUnits: price, currency: currency)))
        #expect(q.cost.description == cost && q.balanceAfter?.description == after && q.shortfall?.description == short)
        #expect(q.affordable == (after != nil))
    }

    @Test("the quota after: free storage or the plan, plus purchases, plus this one; an override holds it")
    func quotaAfter() throws {
        let price = pricing(Money(minorUnits: 100, currency: usd))
        let balance = Money(minorUnits: 10_000, currency: usd)
        let free = try PurchaseQuote.make(gb: 3, pricing: price, balance: balance, quota: quota(purchased: 2_000_000_000), now: 0)
        #expect(free.quotaBytes == 7_000_000_000 && free.quotaAfterBytes == 10_000_000_000 && !free.overridden && free.bytes == 3_000_000_000)
        let plan = try PurchaseQuote.make(gb: 1, pricing: price, balance: balance, quota: quota(plan: 50_000_000_000), now: 0)
        #expect(plan.quotaAfterBytes == 51_000_000_000)
        let held = try PurchaseQuote.make(gb: 1, pricing: price, balance: balance, quota: quota(plan: 50_000_000_000, override: 20_000_000_000), now: 0)
        #expect(held.quotaBytes == 20_000_000_000 && held.quotaAfterBytes == 20_000_000_000 && held.overridden)
    }

    @Test("the expiry: now plus the validity in days, or never")
    func expiry() throws {
        let balance = Money(minorUnits: 0, currency: usd)
        let dated = try PurchaseQuote.make(gb: 1, pricing: pricing(Money(minorUnits: 0, currency: usd), validity: 30), balance: balance, quota: quota(), now: 1000)
        #expect(dated.expiresAt == 1000 + 30 * 86400 && dated.validityDays == 30 && dated.affordable)
        let never = try PurchaseQuote.make(gb: 1, pricing: pricing(Money(minorUnits: 0, currency: usd), validity: nil), balance: balance, quota: quota(), now: 1000)
        #expect(never.expiresAt == nil && never.validityDays == nil)
    }

    @Test("refused as buy refuses: out of the pricing's range, and a cost or size past 64 bits")
    func refusals() {
        let price = pricing(Money(minorUnits: 500, currency: usd), min: 2, max: 10)
        let balance = Money(minorUnits: 0, currency: usd)
        #expect(throws: PurchaseRefusal.invalidAmount("Buy from 2 to 10 GB at a time.")) {
            try PurchaseQuote.make(gb: 1, pricing: price, balance: balance, quota: quota(), now: 0)
        }
        #expect(throws: PurchaseRefusal.invalidAmount("Buy from 2 to 10 GB at a time.")) {
            try PurchaseQuote.make(gb: 11, pricing: price, balance: balance, quota: quota(), now: 0)
        }
        #expect(throws: PurchaseRefusal.invalidAmount("That is more than can be bought at once.")) {
            try PurchaseQuote.make(gb: 3, pricing: pricing(Money(minorUnits: Int64.max / 2, currency: usd)), balance: balance, quota: quota(), now: 0)
        }
        #expect(throws: PurchaseRefusal.invalidAmount("That is more than can be bought at once.")) {
            try PurchaseQuote.make(gb: 10_000_000_000, pricing: pricing(Money(minorUnits: 1, currency: usd), max: Int.max), balance: balance, quota: quota(), now: 0)
        }
        #expect(throws: PurchaseRefusal.invalidAmount("That is more than can be bought at once.")) {
            try PurchaseQuote.make(gb: 1, pricing: price.with(min: 1), balance: balance, quota: quota(purchased: Int64.max - 10, override: 1), now: 0)
        }
    }

    @Test("the typed amount: ASCII digits only, at least 1, within 64 bits", arguments: [
        (" 12 ", 12), ("007", 7), ("1", 1), ("9223372036854775807", Int.max),
    ])
    func typed(text: String, gb: Int) throws {
        #expect(try PurchaseQuote.gb(typed: text) == gb)
    }

    @Test("the typed amount refused, each with its message", arguments: [
        ("", "Enter how many GB"), ("  ", "Enter how many GB"), ("-1", "digits only"), ("+1", "digits only"), ("1.5", "digits only"),
        ("1e3", "digits only"), ("1 000", "digits only"), ("0x10", "digits only"), ("１０", "full-width"), ("٣", "digits 0 to 9"),
        ("9223372036854775808", "more than can be bought"), ("0", "at least 1"), ("000", "at least 1"),
    ])
    func typedRefused(text: String, message: String) {
        do {
            _ = try PurchaseQuote.gb(typed: text)
            Issue.record("\(text.debugDescription) was accepted")
        } catch let error as ValidationError {
            #expect(error.field == "gb" && error.message.contains(message), "\(text.debugDescription): \(error.message)")
        } catch {
            Issue.record("\(error)")
        }
    }
}

private extension StoragePricing {
    func with(min: Int) -> StoragePricing {
        var copy = self
        copy.minimumGB = min
        return copy
    }
}
