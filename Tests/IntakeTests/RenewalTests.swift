import Database
import Foundation
import Synchronization
import Testing
import TestSupport
@testable import Intake

@Suite("Billing periods: monthly anniversaries across month ends and leap years")
struct BillingPeriodTests {
    func at(_ y: Int, _ m: Int, _ d: Int, _ h: Int = 0) -> Int64 { CivilDate(year: y, month: m, day: d).epoch + Int64(h) * 3600 }

    @Test("given on 31 January: 29 February in a leap year, 28 in another, then back to the 31st; the time of day is kept")
    func monthEnds() {
        let leap = at(2024, 1, 31, 10)
        #expect(BillingPeriod.anniversary(of: leap, months: 1) == at(2024, 2, 29, 10))
        #expect(BillingPeriod.anniversary(of: leap, months: 2) == at(2024, 3, 31, 10), "counted from the anchor, not from February")
        #expect(BillingPeriod.anniversary(of: leap, months: 3) == at(2024, 4, 30, 10))
        #expect(BillingPeriod.anniversary(of: leap, months: 11) == at(2024, 12, 31, 10))
        #expect(BillingPeriod.anniversary(of: leap, months: 12) == at(2025, 1, 31, 10), "over the year end")
        #expect(BillingPeriod.anniversary(of: at(2023, 1, 31), months: 1) == at(2023, 2, 28))
        #expect(BillingPeriod.anniversary(of: at(2100, 1, 29), months: 1) == at(2100, 2, 28), "2100 is not a leap year")
        #expect(BillingPeriod.anniversary(of: at(2000, 1, 30), months: 1) == at(2000, 2, 29), "2000 is")
    }

    @Test("given on 29 February: 28 February in the years between, 29 again four years on")
    func leapDay() {
        let anchor = at(2024, 2, 29, 23)
        #expect(BillingPeriod.anniversary(of: anchor, months: 12) == at(2025, 2, 28, 23))
        #expect(BillingPeriod.anniversary(of: anchor, months: 13) == at(2025, 3, 29, 23))
        #expect(BillingPeriod.anniversary(of: anchor, months: 48) == at(2028, 2, 29, 23))
    }

    @Test("the period containing a time: a second before the anniversary is the old one, the anniversary itself the new one")
    func containing() {
        let anchor = at(2024, 1, 31, 10)
        #expect(BillingPeriod.containing(anchor, anchor: anchor) == BillingPeriod(index: 0, start: anchor, end: at(2024, 2, 29, 10)))
        #expect(BillingPeriod.containing(at(2024, 2, 29, 10) - 1, anchor: anchor).index == 0)
        #expect(BillingPeriod.containing(at(2024, 2, 29, 10), anchor: anchor) == BillingPeriod(index: 1, start: at(2024, 2, 29, 10), end: at(2024, 3, 31, 10)))
        #expect(BillingPeriod.containing(at(2024, 3, 31, 9), anchor: anchor).index == 1, "31 March before ten is still February's period")
        #expect(BillingPeriod.containing(at(2027, 6, 15), anchor: anchor) == BillingPeriod(index: 40, start: at(2027, 5, 31, 10), end: at(2027, 6, 30, 10)))
        #expect(BillingPeriod.containing(anchor - 86400, anchor: anchor).index == 0, "before the anchor: the first period")
        // Every period of ten years starts where the one before ended and lasts 28 to 31 days.
        var previous = BillingPeriod.containing(anchor, anchor: anchor)
        for _ in 0..<120 {
            let next = BillingPeriod.containing(previous.end, anchor: anchor)
            #expect(next.start == previous.end && next.index == previous.index + 1)
            #expect((28 * 86400...31 * 86400).contains(next.end - next.start))
            previous = next
        }
    }

    @Test("civil dates round-trip for every day from 1900 to 2400")
    func civilDates() {
        var day = CivilDate(year: 1900, month: 1, day: 1).days
        let end = CivilDate(year: 2400, month: 12, day: 31).days
        var previous = CivilDate(days: day - 1)
        while day <= end {
            let date = CivilDate(days: day)
            #expect(date.days == day && previous < date)
            previous = date
            day += 1
        }
        #expect(CivilDate(epoch: -1) == CivilDate(year: 1969, month: 12, day: 31))
        #expect(CivilDate(year: 2026, month: 12, day: 6).text == "2026-12-06")
    }
}

@Suite("Plan renewals: charged once per period from the balance, grace when short, then the free storage")
struct PlanRenewalTests {
    let usd = Currency(code: "USD")!
    let admin = AuditLog.Actor(userID: nil, remoteAddress: "127.0.0.1")

    /// A user with `balance` on a 10.00 plan of 50 GB given at the clock's time, and pricing with 3 grace days.
    func seed(_ db: Database, _ clock: ManualClock, balance: Int64) throws -> (renewals: PlanRenewals, planID: Int64) {
        try db.execute("""
            INSERT INTO users (id, email, email_normalized, name, password_hash, role, created_at, updated_at)
            VALUES (1, 'a@example.com', 'a@example.com', 'A', 'x', 'user', 0, 0)
            """)
        let pricing = StoragePricingStore(db: db, clock: clock, currency: usd)
        var price = StoragePricing.defaults(currency: usd)
        price.overQuota = .deleteOldest(graceDays: 3)
        try pricing.save(price, by: admin)
        let plan = try TariffPlanStore(db: db, clock: clock).create(
            TariffPlanInput(name: "Pro", monthlyPrice: Money(minorUnits: 1000, currency: usd), storageBytes: 50_000_000_000,
                            maxFileBytes: 1_000_000_000, maxPortals: 10, active: true), by: admin)
        if balance > 0 {
            try BalanceLedger(db: db, clock: clock).adjust(userID: 1, amount: Money(minorUnits: balance, currency: usd), reason: "Top-up", by: admin)
        }
        try QuotaStore(db: db, clock: clock).assignPlan(userID: 1, planID: plan.id, by: admin)
        return (PlanRenewals(db: db, clock: clock, pricing: pricing), plan.id)
    }

    func balance(_ db: Database) throws -> Int64 {
        try db.scalar("SELECT coalesce(sum(amount_minor), 0) FROM balance_ledger WHERE user_id = 1", as: Int64.self) ?? -1
    }

    func subjects(_ db: Database) throws -> [String] {
        try db.query("SELECT subject FROM mail_outbox ORDER BY id").map { try $0.get("subject", as: String.self) }
    }

    @Test("the first period is charged when the plan is given, each anniversary once more; eight runners at once charge once; a rerun charges nothing")
    func charged() throws {
        try withDatabase { db in
            let clock = ManualClock(CivilDate(year: 2027, month: 1, day: 31).epoch + 9 * 3600)
            let (renewals, _) = try seed(db, clock, balance: 2500)
            let location = db.location
            let charged = Mutex(0)
            onThreads(8) { _ in
                let own = try! location.open()
                let done = try! PlanRenewals(db: own, clock: clock, pricing: StoragePricingStore(db: own, clock: clock, currency: usd)).renewDue()
                charged.withLock { $0 += done.charged }
            }
            #expect(charged.withLock { $0 } == 1)
            #expect(try balance(db) == 1500)
            #expect(try renewals.renewDue() == PlanRenewals.Report(), "nothing due until the anniversary")
            clock.advance(28 * 86400 - 1)          // 28 February 2027, 08:59:59
            #expect(try renewals.renewDue().charged == 0)
            clock.advance(1)                       // the anniversary, clamped to 28 February
            #expect(try renewals.renewDue().charged == 1)
            #expect(try renewals.renewDue().charged == 0)
            #expect(try balance(db) == 500)
            let rows = try db.query("SELECT period_start, status FROM plan_renewals ORDER BY id").map {
                "\(CivilDate(epoch: try $0.get("period_start")).text) \(try $0.get("status", as: String.self))"
            }
            #expect(rows == ["2027-01-31 paid", "2027-02-28 paid"])
            #expect(try db.scalar("SELECT count(*) FROM audit_log WHERE action = 'plan.renewal_charged'", as: Int.self) == 2)
            #expect(try renewals.state(userID: 1)?.renewsAt == CivilDate(year: 2027, month: 3, day: 31).epoch + 9 * 3600)
        }
    }

    @Test("a short balance: mailed, the plan kept through the grace days, charged when topped up; short again and unpaid: back to free, audited, mailed")
    func grace() throws {
        try withDatabase { db in
            let clock = ManualClock()
            let (renewals, planID) = try seed(db, clock, balance: 400)
            #expect(try renewals.renewDue().failed == 1)
            #expect(try renewals.renewDue() == PlanRenewals.Report(), "retried hourly, not every pass")
            #expect(try subjects(db) == ["We could not renew your Pro plan"])
            #expect(try db.scalar("SELECT plan_id FROM users WHERE id = 1", as: Int64.self) == planID)
            let graceUntil = try #require(try renewals.state(userID: 1)?.graceUntil)
            #expect(graceUntil == clock.now() + 3 * 86400)
            // Topped up on the second day: the next retry charges the period that failed.
            clock.advance(86400)
            try BalanceLedger(db: db, clock: clock).adjust(userID: 1, amount: Money(minorUnits: 700, currency: usd), reason: "Top-up", by: admin)
            #expect(try renewals.renewDue().charged == 1)
            #expect(try balance(db) == 100 && (try renewals.state(userID: 1)?.graceUntil) == nil)
            #expect(try db.scalar("SELECT status FROM plan_renewals", as: String.self) == "paid")
            // The next anniversary with 1.00 left: grace again, and this time it runs out.
            clock.advance(31 * 86400)
            #expect(try renewals.renewDue().failed == 1)
            for _ in 0..<(3 * 24 - 1) {
                clock.advance(3600)
                #expect(try renewals.renewDue().charged == 0)
            }
            clock.advance(3600)
            #expect(try renewals.renewDue().lapsed == 1)
            #expect(try db.scalar("SELECT plan_id IS NULL FROM users WHERE id = 1", as: Bool.self) == true)
            #expect(try db.scalar("SELECT quota_bytes FROM users WHERE id = 1", as: Int64.self) == StoragePricing.defaultFreeStorageBytes,
                    "the free storage again")
            #expect(try renewals.renewDue() == PlanRenewals.Report())
            #expect(try db.query("SELECT status FROM plan_renewals ORDER BY id").map { try $0.get("status", as: String.self) } == ["paid", "lapsed"])
            #expect(try db.scalar("SELECT count(*) FROM audit_log WHERE action = 'plan.lapsed'", as: Int.self) == 1)
            #expect(try subjects(db).last == "Your Pro plan has ended")
            #expect(try balance(db) == 100, "never below zero, never charged for the lapsed period")
        }
    }

    @Test("a missed month is not charged after the fact; a free plan is never due; a plan that gets a price charges from the next anniversary")
    func edges() throws {
        try withDatabase { db in
            let clock = ManualClock()
            let (renewals, planID) = try seed(db, clock, balance: 10_000)
            try renewals.renewDue()
            clock.advance(95 * 86400)
            #expect(try renewals.renewDue().charged == 1)
            #expect(try db.scalar("SELECT count(*) FROM plan_renewals", as: Int.self) == 2, "the periods in between were not run, so not charged")
            let plans = TariffPlanStore(db: db, clock: clock)
            var input = TariffPlanInput(name: "Pro", monthlyPrice: Money(minorUnits: 0, currency: usd), storageBytes: 50_000_000_000,
                                        maxFileBytes: 1_000_000_000, maxPortals: 10, active: true)
            _ = try plans.update(id: planID, input, by: admin)
            clock.advance(40 * 86400)
            #expect(try renewals.renewDue() == PlanRenewals.Report())
            #expect(try renewals.state(userID: 1)?.renewsAt == nil)
            input.monthlyPrice = Money(minorUnits: 500, currency: usd)
            _ = try plans.update(id: planID, input, by: admin)
            let next = try #require(try renewals.state(userID: 1)?.renewsAt)
            #expect(next > clock.now() && next - clock.now() <= 31 * 86400)
            #expect(try renewals.renewDue().charged == 0)
            clock.advance(next - clock.now())
            #expect(try renewals.renewDue().charged == 1)
            #expect(try balance(db) == 10_000 - 2000 - 500)
        }
    }
}

@Suite("Over-quota enforcement: which files go")
struct EnforcementChoiceTests {
    typealias C = OverQuotaEnforcement.Candidate

    @Test("oldest first, none younger than the grace period, and no more than the excess needs")
    func choice() {
        let files = [C(id: 4, bytes: 40, createdAt: 400), C(id: 1, bytes: 10, createdAt: 100), C(id: 3, bytes: 30, createdAt: 300),
                     C(id: 2, bytes: 20, createdAt: 100)]
        #expect(OverQuotaEnforcement.choose(files, excess: 0, notAfter: 1000).isEmpty)
        #expect(OverQuotaEnforcement.choose(files, excess: 10, notAfter: 1000).map(\.id) == [1])
        #expect(OverQuotaEnforcement.choose(files, excess: 11, notAfter: 1000).map(\.id) == [1, 2], "ties by id")
        #expect(OverQuotaEnforcement.choose(files, excess: 31, notAfter: 1000).map(\.id) == [1, 2, 3])
        #expect(OverQuotaEnforcement.choose(files, excess: 1000, notAfter: 300).map(\.id) == [1, 2, 3], "the young one is kept even if still over")
        #expect(OverQuotaEnforcement.choose(files, excess: 5, notAfter: 99).isEmpty)
    }
}

@Suite("Deleting a file twice at once")
struct DoubleDeleteTests {
    @Test("16 removers going through the same 200 files at once, each on its own connection: each file removed once, the usage drops once per file, one audit entry each")
    func once() throws {
        try withDatabase { db in
            let clock = ManualClock()
            let actor = AuditLog.Actor(userID: nil, remoteAddress: "")
            let owner = try UserStore(db: db, clock: clock).create(email: "o@example.com", name: "O", password: "long enough pw", role: .user)
            let account = try StorageAccountStore(db: db, clock: clock)
                .createOrGet(userID: owner.id, provider: .local, providerAccountID: "a", email: nil, displayName: "A", by: actor).account
            var input = PortalInput(name: "P", slug: "portal-one")
            input.storageAccountID = account.id
            guard case .success(let portal) = try PortalStore(db: db, clock: clock).create(input, userID: owner.id, by: actor) else {
                Issue.record("not created")
                return
            }
            try db.write {
                for _ in 0..<200 {
                    try db.execute("""
                        INSERT INTO file_uploads (portal_id, user_id, storage_account_id, file_name, size_bytes, status, created_at, updated_at)
                        VALUES ($1, $2, $3, 'f', 1000, 'uploaded', 0, 0)
                        """, [portal.id, owner.id, account.id])
                }
                try db.execute("UPDATE users SET storage_used_bytes = 200234 WHERE id = $1", [owner.id])
            }
            let ids = try db.query("SELECT id FROM file_uploads ORDER BY id").map { try $0.get("id", as: Int64.self) }
            let removed = Mutex(0), location = db.location
            onThreads(16) { _ in
                let own = try! location.open()
                for id in ids where try! FileStore(db: own, clock: clock).delete(id: id, provider: nil, by: actor).deletedFromDatabase {
                    removed.withLock { $0 += 1 }
                }
            }
            #expect(removed.withLock { $0 } == 200)
            let used = try db.scalar("SELECT storage_used_bytes FROM users WHERE id = $1", [owner.id], as: Int64.self)
            #expect(used == 234)
            #expect(try db.scalar("SELECT count(*) FROM audit_log WHERE action = 'file_upload.delete'", as: Int.self) == 200)
        }
    }
}
