import Database
import Testing
@testable import Intake

@Suite("Effective quota")
struct QuotaTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let override: Int64?
        let plan: Int64?
        let extra: Int64
        let expected: Int64
        var testDescription: String { "override \(override.map(String.init) ?? "-"), plan \(plan.map(String.init) ?? "-"), extra \(extra)" }
    }

    static let free: Int64 = 5_000
    static let cases = [
        Case(override: 42, plan: 10_000, extra: 700, expected: 42),       // override wins over everything
        Case(override: 0, plan: nil, extra: 700, expected: 0),            // even a zero override
        Case(override: nil, plan: 10_000, extra: 700, expected: 10_700),  // plan plus purchases
        Case(override: nil, plan: 0, extra: 700, expected: 700),          // a plan with no storage still replaces the free storage
        Case(override: nil, plan: nil, extra: 700, expected: 5_700),      // free storage plus purchases
        Case(override: nil, plan: nil, extra: 0, expected: 5_000),
    ]

    @Test("the rule", arguments: cases)
    func rule(_ c: Case) {
        #expect(QuotaRule.effectiveQuota(overrideBytes: c.override, planStorageBytes: c.plan, freeStorageBytes: Self.free,
                                         purchasedExtraBytes: c.extra) == c.expected)
    }

    @Test("the SQL rendering used by lists agrees with the rule", arguments: cases)
    func sqlAgrees(_ c: Case) throws {
        try withDatabase { db in
            let clock = ManualClock()
            let user = try UserStore(db: db, clock: clock).create(email: "q@example.com", name: "Q", password: "long enough pw", role: .user)
            var planID: Int64?
            if let plan = c.plan {
                planID = try db.scalar("""
                    INSERT INTO tariff_plans (name, monthly_price_minor, currency, storage_bytes, max_file_bytes, max_portals, created_at, updated_at)
                    VALUES ('P', 0, 'USD', $1, 1, 1, 0, 0) RETURNING id
                    """, [plan], as: Int64.self)
            }
            try db.execute("UPDATE users SET plan_id = $1, quota_override_bytes = $2, purchased_extra_bytes = $3, storage_used_bytes = 5200 WHERE id = $4",
                           [planID, c.override, c.extra, user.id])
            // The free storage comes from the pricing in force: save a version with the test's value.
            var pricing = StoragePricing.defaults(currency: Currency(code: "USD")!)
            pricing.freeStorageBytes = Self.free
            try StoragePricingStore(db: db, clock: clock, currency: pricing.pricePerGB.currency)
                .save(pricing, by: AuditLog.Actor(userID: nil, remoteAddress: ""))
            let quota = try #require(try QuotaStore(db: db, clock: clock).quota(userID: user.id))
            #expect(quota.effectiveBytes == c.expected)
            let over = try QuotaStore(db: db, clock: clock).page(search: "", filter: .over, sort: .usage, after: nil, pageSize: 10)
            #expect(over.total == (5200 > c.expected ? 1 : 0), "the over-quota filter uses the same rule")
        }
    }

    @Test("the maintained quota follows every input: new user, plan, plan storage, override, purchases, free storage")
    func maintained() throws {
        try withDatabase { db in
            let clock = ManualClock()
            let quotas = QuotaStore(db: db, clock: clock)
            let actor = AuditLog.Actor(userID: nil, remoteAddress: "")
            let user = try UserStore(db: db, clock: clock).create(email: "m@example.com", name: "M", password: "long enough pw", role: .user)
            func effective() throws -> Int64 { try #require(try quotas.quota(userID: user.id)).effectiveBytes }
            #expect(try effective() == StoragePricing.defaultFreeStorageBytes)
            var pricing = StoragePricing.defaults(currency: Currency(code: "USD")!)
            pricing.freeStorageBytes = 7_000
            try StoragePricingStore(db: db, clock: clock, currency: pricing.pricePerGB.currency).save(pricing, by: actor)
            #expect(try effective() == 7_000)
            try db.execute("UPDATE users SET purchased_extra_bytes = 500 WHERE id = $1", [user.id])
            #expect(try effective() == 7_500)
            let input = TariffPlanInput(name: "P", monthlyPrice: Money(minorUnits: 100, currency: pricing.pricePerGB.currency),
                                        storageBytes: 20_000, maxFileBytes: 1, maxPortals: 1, active: true)
            let plan = try TariffPlanStore(db: db, clock: clock).create(input, by: actor)
            try quotas.assignPlan(userID: user.id, planID: plan.id, by: actor)
            #expect(try effective() == 20_500)
            var bigger = input
            bigger.storageBytes = 30_000
            _ = try TariffPlanStore(db: db, clock: clock).update(id: plan.id, bigger, by: actor)
            #expect(try effective() == 30_500)
            try quotas.setOverride(userID: user.id, bytes: 1_234, by: actor)
            #expect(try effective() == 1_234)
            try quotas.setOverride(userID: user.id, bytes: nil, by: actor)
            try quotas.assignPlan(userID: user.id, planID: nil, by: actor)
            #expect(try effective() == 7_500)
        }
    }

    @Test("the count of users over quota follows usage, overrides, plans, the free storage, new and deleted users, and bulk changes")
    func overQuotaCounted() throws {
        try withDatabase { db in
            let clock = ManualClock()
            let quotas = QuotaStore(db: db, clock: clock)
            let actor = AuditLog.Actor(userID: nil, remoteAddress: "")
            func kept() throws -> Int { try #require(try db.scalar("SELECT n FROM user_counts WHERE name = 'over_quota'", as: Int.self)) }
            func recount() throws -> Int { try #require(try db.scalar("SELECT count(*) FROM users WHERE storage_used_bytes - quota_bytes > 0", as: Int.self)) }
            let users = try (0..<4).map { try UserStore(db: db, clock: clock).create(email: "o\($0)@example.com", name: "O", password: "long enough pw", role: .user) }
            #expect(try kept() == 0)
            var pricing = StoragePricing.defaults(currency: Currency(code: "USD")!)
            pricing.freeStorageBytes = 1_000
            try StoragePricingStore(db: db, clock: clock, currency: pricing.pricePerGB.currency).save(pricing, by: actor)
            try db.execute("UPDATE users SET storage_used_bytes = 1500")
            #expect(try kept() == 4 && recount() == 4, "a bulk update")
            try quotas.setOverride(userID: users[0].id, bytes: 2_000, by: actor)
            try db.execute("UPDATE users SET purchased_extra_bytes = 600 WHERE id = $1", [users[1].id])
            #expect(try kept() == 2 && recount() == 2)
            pricing.freeStorageBytes = 1_499
            try StoragePricingStore(db: db, clock: clock, currency: pricing.pricePerGB.currency).save(pricing, by: actor)
            #expect(try kept() == 2, "1 byte over is over")
            pricing.freeStorageBytes = 1_500
            try StoragePricingStore(db: db, clock: clock, currency: pricing.pricePerGB.currency).save(pricing, by: actor)
            #expect(try kept() == 0 && recount() == 0, "at the quota is not over")
            try db.execute("UPDATE users SET storage_used_bytes = storage_used_bytes + 1 WHERE id IN ($1, $2)", [users[2].id, users[3].id])
            #expect(try kept() == 2)
            try db.execute("DELETE FROM users WHERE id = $1", [users[3].id])
            #expect(try kept() == 1 && recount() == 1)
            let quota = try quotas.page(search: "", filter: .over, sort: .email, after: nil, pageSize: 10)
            #expect(quota.total == 1 && quota.rows.map(\.userID) == [users[2].id])
        }
    }

    @Test("near and over")
    func nearAndOver() {
        func quota(_ used: Int64, _ effective: Int64) -> UserQuota {
            UserQuota(userID: 1, email: "", name: "", planName: nil, planStorageBytes: nil, purchasedExtraBytes: 0, overrideBytes: nil,
                      effectiveBytes: effective, usedBytes: used)
        }
        #expect(quota(101, 100).isOver && !quota(101, 100).isNear)
        #expect(quota(90, 100).isNear && !quota(89, 100).isNear && quota(100, 100).isNear)
        #expect(quota(1, 0).isOver && quota(1, 0).usage.isInfinite)
    }
}

@Suite("Balance ledger")
struct BalanceLedgerTests {
    @Test("the balance is the sum of appended entries; the database refuses updates and deletes")
    func appendOnly() throws {
        try withDatabase { db in
            let clock = ManualClock()
            let usd = Currency(code: "USD")!
            let user = try UserStore(db: db, clock: clock).create(email: "b@example.com", name: "B", password: "long enough pw", role: .user)
            let ledger = BalanceLedger(db: db, clock: clock)
            #expect(try ledger.balance(userID: user.id, currency: usd) == Money(minorUnits: 0, currency: usd))
            try ledger.append(userID: user.id, amount: Money(minorUnits: 1000, currency: usd), reason: "top-up")
            try ledger.append(userID: user.id, amount: Money(minorUnits: -499, currency: usd), reason: "purchase", idempotencyKey: "k1")
            #expect(try ledger.balance(userID: user.id, currency: usd).minorUnits == 501)
            #expect(throws: DatabaseError.self) { try ledger.append(userID: user.id, amount: Money(minorUnits: -499, currency: usd), reason: "purchase", idempotencyKey: "k1") }
            let update = try #require(throws: DatabaseError.self) { try db.execute("UPDATE balance_ledger SET amount_minor = 0") }
            #expect(update.message.contains("append-only"))
            #expect(throws: DatabaseError.self) { try db.execute("DELETE FROM balance_ledger") }
            #expect(try ledger.balance(userID: user.id, currency: usd).minorUnits == 501)
        }
    }
}

@Suite("The quota list's pages")
struct QuotaPagingTests {
    @Test("every sort and filter, paged 7 at a time through the cursor, lists each matching user once in order, ties included", arguments: QuotaStore.Sort.allCases)
    func keyset(sort: QuotaStore.Sort) throws {
        try withDatabase { db in
            // 150 users whose usage, quota and ratio repeat, so pages break inside runs of equal
            // values; some over their quota, some at 90 % of it or more.
            try db.executeScript("""
                WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 150)
                INSERT INTO users (email, email_normalized, name, password_hash, role, created_at, updated_at, storage_used_bytes, quota_override_bytes)
                SELECT 'u' || i || '@example.com', 'u' || i || '@example.com', 'User ' || i, 'x', 'user', 0, 0, (i % 6) * 100 + (i % 5) * 10, (i % 7) * 150 FROM n;
                """)
            let store = QuotaStore(db: db, clock: ManualClock())
            for filter in QuotaStore.Filter.allCases {
                for search in ["", "u1"] {
                    let everything = try store.page(search: search, filter: filter, sort: sort, after: nil, pageSize: 1_000)
                    var got: [Int64] = [], cursor: PageCursor?
                    repeat {
                        let page = try store.page(search: search, filter: filter, sort: sort, after: cursor.flatMap { PageCursor($0.description) }, pageSize: 7)
                        #expect(page.total == everything.total)
                        got += page.rows.map(\.userID)
                        cursor = page.next
                    } while cursor != nil
                    #expect(got == everything.rows.map(\.userID), "\(filter) \(search)")
                    #expect(everything.rows.count == everything.total && everything.next == nil)
                    if search.isEmpty { #expect(everything.total > 3, "\(filter) matches some users") }
                }
            }
            // A filter's count stops past its limit.
            var capped = QuotaStore(db: db, clock: ManualClock())
            capped.countLimit = 3
            let over = try store.page(search: "", filter: .over, sort: sort, after: nil, pageSize: 7).total
            #expect(over > 3, "\(over) over quota")
            #expect(try capped.page(search: "", filter: .over, sort: sort, after: nil, pageSize: 7).total == 4)
            capped.countLimit = 20
            #expect(try capped.page(search: "u14", filter: .all, sort: sort, after: nil, pageSize: 7).total == 11)
            #expect(try capped.page(search: "", filter: .all, sort: sort, after: nil, pageSize: 7).total == 150, "all users: the kept count")
            #expect(PageCursor("x") == nil && PageCursor("a.0") == nil && PageCursor("a.b@c.example.5") == PageCursor(value: "a.b@c.example", id: 5))
        }
    }
}
