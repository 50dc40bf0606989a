import Database
import Foundation
import Synchronization
import Testing
import TestSupport
@testable import Intake

@Suite("Balances: admin credits and debits, never below zero, and the statement")
struct BalanceTests {
    let usd = Currency(code: "USD")!
    let admin = AuditLog.Actor(userID: nil, remoteAddress: "127.0.0.1")

    func seed(_ db: Database) throws {
        try db.execute("""
            INSERT INTO users (id, email, email_normalized, name, password_hash, role, created_at, updated_at)
            VALUES (1, 'a@example.com', 'a@example.com', 'A', 'x', 'user', 0, 0)
            """)
    }

    @Test("credit, debit, a debit past the balance refused with the shortfall and nothing written; every change audited")
    func adjust() throws {
        try withDatabase { db in
            try seed(db)
            let ledger = BalanceLedger(db: db, clock: ManualClock())
            #expect(try ledger.adjust(userID: 1, amount: Money(minorUnits: 1250, currency: usd), reason: "Welcome credit", by: admin).minorUnits == 1250)
            #expect(try ledger.adjust(userID: 1, amount: Money(minorUnits: -250, currency: usd), reason: "Correction", by: admin).minorUnits == 1000)
            #expect(throws: InsufficientBalance(balance: Money(minorUnits: 1000, currency: usd), shortfall: Money(minorUnits: 1, currency: usd))) {
                try ledger.adjust(userID: 1, amount: Money(minorUnits: -1001, currency: usd), reason: "Too much", by: admin)
            }
            #expect(throws: ValidationError.self) { try ledger.adjust(userID: 1, amount: Money(minorUnits: 5, currency: usd), reason: "  ", by: admin) }
            #expect(throws: ValidationError.self) { try ledger.adjust(userID: 1, amount: Money(minorUnits: 0, currency: usd), reason: "x", by: admin) }
            #expect(throws: ValidationError.self) {
                try ledger.adjust(userID: 1, amount: Money(minorUnits: Int64.max, currency: usd), reason: "Overflow", by: admin)
            }
            #expect(try db.scalar("SELECT count(*) FROM balance_ledger", as: Int.self) == 2)
            #expect(try db.query("SELECT action FROM audit_log ORDER BY id").map { try $0.get("action", as: String.self) } == ["balance.credit", "balance.debit"])
        }
    }

    @Test("the maintained balance is the ledger's sum in each currency, read without summing; the database refuses a row that takes it below zero")
    func maintained() throws {
        try withDatabase { db in
            try seed(db)
            let ledger = BalanceLedger(db: db, clock: ManualClock())
            let kwd = Currency(code: "KWD")!
            try ledger.append(userID: 1, amount: Money(minorUnits: 700, currency: usd), reason: "a")
            try ledger.append(userID: 1, amount: Money(minorUnits: -200, currency: usd), reason: "b")
            try ledger.append(userID: 1, amount: Money(minorUnits: 1005, currency: kwd), reason: "c")
            #expect(try ledger.balance(userID: 1, currency: usd).minorUnits == 500)
            #expect(try ledger.balance(userID: 1, currency: kwd).minorUnits == 1005)
            #expect(throws: DatabaseError.self) { try ledger.append(userID: 1, amount: Money(minorUnits: -501, currency: usd), reason: "too much") }
            #expect(try ledger.balance(userID: 1, currency: usd).minorUnits == 500, "the refused row changed nothing")
            #expect(try db.scalar("SELECT count(*) FROM balance_ledger", as: Int.self) == 3)
            if db.dialect == .sqlite {
                let plan = try db.query("EXPLAIN QUERY PLAN SELECT balance_minor FROM balances WHERE user_id = 1 AND currency = 'USD'")
                    .map { try $0.get("detail", as: String.self) }.joined()
                #expect(plan.contains("USING PRIMARY KEY"), "\(plan)")
            }
        }
    }

    @Test("20 debits of 1.00 at once from 10.00, each on its own connection: exactly 10 pass, the balance ends at zero and is the ledger's sum")
    func concurrentDebits() throws {
        try withDatabase { db in
            try seed(db)
            try BalanceLedger(db: db, clock: ManualClock()).adjust(userID: 1, amount: Money(minorUnits: 1000, currency: usd), reason: "Top-up", by: admin)
            let location = db.location
            let outcomes = Mutex<(passed: Int, refused: Int, other: [String])>((0, 0, []))
            onThreads(20) { _ in
                do {
                    let own = try location.open()
                    try BalanceLedger(db: own, clock: ManualClock()).adjust(userID: 1, amount: Money(minorUnits: -100, currency: usd),
                                                                           reason: "Debit", by: admin)
                    outcomes.withLock { $0.passed += 1 }
                } catch is InsufficientBalance {
                    outcomes.withLock { $0.refused += 1 }
                } catch {
                    outcomes.withLock { $0.other.append("\(error)") }
                }
            }
            let result = outcomes.withLock { $0 }
            #expect(result.passed == 10 && result.refused == 10 && result.other.isEmpty, "\(result)")
            #expect(try db.scalar("SELECT balance_minor FROM balances WHERE user_id = 1", as: Int64.self)
                    == (try db.scalar("SELECT sum(amount_minor) FROM balance_ledger WHERE user_id = 1", as: Int64.self)))
            #expect(try db.scalar("SELECT sum(amount_minor) FROM balance_ledger", as: Int64.self) == 0)
            #expect(try db.scalar("SELECT count(*) FROM balance_ledger WHERE amount_minor < 0", as: Int.self) == 10)
        }
    }

    @Test("the statement: each row with the balance after it; a month shows its rows and the balance before it")
    func statement() throws {
        try withDatabase { db in
            try seed(db)
            let clock = ManualClock(1_795_000_000)  // 2026-11-17
            let ledger = BalanceLedger(db: db, clock: clock)
            try ledger.adjust(userID: 1, amount: Money(minorUnits: 2000, currency: usd), reason: "November credit", by: admin)
            clock.advance(30 * 86400)  // December
            try ledger.adjust(userID: 1, amount: Money(minorUnits: -500, currency: usd), reason: "December debit", by: admin)
            try ledger.adjust(userID: 1, amount: Money(minorUnits: 300, currency: usd), reason: "December credit", by: admin)
            let all = try ledger.statement(userID: 1, currency: usd, from: nil, to: nil)
            #expect(all.opening.minorUnits == 0 && all.lines.map(\.balanceAfter.minorUnits) == [2000, 1500, 1800])
            let december = try ledger.statement(userID: 1, currency: usd, from: 1_796_083_200, to: 1_798_761_600)  // 2026-12-01 … 2027-01-01
            #expect(december.opening.minorUnits == 2000 && december.lines.map(\.reason) == ["December debit", "December credit"])
            #expect(december.lines.last?.balanceAfter.minorUnits == 1800)
        }
    }

    @Test("a purchase's cost is exact in minor units for currencies with 0, 2 and 3 decimals, and refused on overflow")
    func cost() throws {
        let jpy = Currency(code: "JPY")!, kwd = Currency(code: "KWD")!
        #expect(StoragePurchases.cost(gb: 3, pricePerGB: try Money.parse("120", currency: jpy))?.minorUnits == 360)
        #expect(StoragePurchases.cost(gb: 3, pricePerGB: try Money.parse("0.99", currency: usd))?.decimalText == "2.97")
        #expect(StoragePurchases.cost(gb: 7, pricePerGB: try Money.parse("1.005", currency: kwd))?.decimalText == "7.035")
        #expect(StoragePurchases.cost(gb: 2, pricePerGB: Money(minorUnits: Int64.max / 2 + 1, currency: usd)) == nil)
        #expect(StoragePurchases.cost(gb: 100_000, pricePerGB: Money(minorUnits: 0, currency: usd))?.minorUnits == 0)
    }

    @Test("expiry: reminded once a week before, expired once at its time (also with two runners at once), the quota follows, the buyer is mailed")
    func expiry() throws {
        try withDatabase { db in
            try seed(db)
            let clock = ManualClock()
            let pricing = StoragePricingStore(db: db, clock: clock, currency: usd)
            var price = StoragePricing.defaults(currency: usd)
            price.pricePerGB = Money(minorUnits: 100, currency: usd)
            price.validityDays = 30
            try pricing.save(price, by: admin)
            try BalanceLedger(db: db, clock: clock).adjust(userID: 1, amount: Money(minorUnits: 1000, currency: usd), reason: "Top-up", by: admin)
            let purchases = StoragePurchases(db: db, clock: clock, pricing: pricing)
            let quota = { try db.scalar("SELECT quota_bytes FROM users WHERE id = 1", as: Int64.self) ?? 0 }
            let before = try quota()
            try purchases.buy(userID: 1, gb: 3, expectedCostMinor: 300, by: admin)
            #expect(try quota() == before + 3_000_000_000)
            clock.advance(22 * 86400)
            #expect(try purchases.expireDue() == (0, 0))
            clock.advance(86400 + 60)
            #expect(try purchases.expireDue() == (1, 0))
            #expect(try purchases.expireDue() == (0, 0), "reminded once")
            clock.advance(7 * 86400)
            let location = db.location
            let results = Mutex<[Int]>([])
            DispatchQueue.concurrentPerform(iterations: 4) { _ in
                if let own = try? location.open(),
                   let done = try? StoragePurchases(db: own, clock: clock, pricing: StoragePricingStore(db: own, clock: clock, currency: usd)).expireDue() {
                    results.withLock { $0.append(done.expired) }
                }
            }
            #expect(results.withLock { $0 }.reduce(0, +) == 1, "expired by exactly one runner")
            #expect(try quota() == before && (try db.scalar("SELECT purchased_extra_bytes FROM users WHERE id = 1", as: Int64.self)) == 0)
            #expect(try db.query("SELECT subject FROM mail_outbox ORDER BY id").map { try $0.get("subject", as: String.self) }
                    == ["Your extra storage expires in 7 days", "Your extra storage has expired"])
            #expect(try purchases.list(userID: 1).first?.expiredAt != nil)
        }
    }
}
