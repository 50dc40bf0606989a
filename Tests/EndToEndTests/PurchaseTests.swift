import Database
import Foundation
import Synchronization
import Testing
import TestSupport

@Suite("Buying storage through nginx: idempotency keys, concurrent purchases, the ledger's invariants", .serialized,
       .enabled(if: integrationEnabled, "set INTAKE_INTEGRATION=1 (scripts/test does)"))
struct PurchaseTests {
    func buy(_ site: DemoSite, key: String?, _ json: String) throws -> HTTPResult {
        var headers = [("Cookie", "intake_session=\(site.owner.cookies["intake_session"]!)"), ("X-CSRF-Token", site.owner.csrfToken!),
                       ("Content-Type", "application/json"), ("Accept", "application/json")]
        if let key { headers.append(("Idempotency-Key", key)) }
        return try HTTPClient.request(port: site.server.port, method: "POST", path: "/api/v1/storage/purchase", headers: headers, body: Array(json.utf8))
    }

    /// sum(ledger) is the balance the API reports, never below zero, and the purchased extra storage is the purchases' sum.
    func checkInvariants(_ site: DemoSite, owner: Int64) throws {
        let ledger = try site.db.scalar("SELECT coalesce(sum(amount_minor), 0) FROM balance_ledger WHERE user_id = $1", [owner], as: Int64.self) ?? -1
        let api = try site.owner.get("/api/v1/billing/balance", headers: [("Accept", "application/json")]).text
        #expect(api.contains(#""balanceMinor":\#(ledger),"#) && ledger >= 0, "\(api) vs \(ledger)")
        let purchased = try site.db.scalar("SELECT coalesce(sum(bytes), 0) FROM storage_purchases WHERE user_id = $1", [owner], as: Int64.self)
        #expect(try site.db.scalar("SELECT purchased_extra_bytes FROM users WHERE id = $1", [owner], as: Int64.self) == purchased)
    }

    @Test("no pricing is 503; then 20 purchases at once with one key charge once and answer alike; a late replay charges nothing; the key with another body is refused; refusals say why")
    func oneKey() throws {
        let site = try DemoSite(workers: 2, threads: 8)
        defer { site.server.stop() }
        _ = try site.owner.get("/dashboard")
        let owner = try #require(try site.db.scalar("SELECT id FROM users WHERE email_normalized = 'owner@example.com'", as: Int64.self))
        #expect(try buy(site, key: "k-none", #"{"gb":1}"#).status == 503)
        try site.db.execute("""
            INSERT INTO storage_pricing_versions (price_per_gb_minor, currency, min_gb, max_gb, validity_days, free_storage_bytes, over_quota_policy, created_at)
            VALUES (500, 'USD', 1, 100, 30, 5000000000, 'block', 0)
            """)
        try site.db.execute("INSERT INTO balance_ledger (user_id, amount_minor, currency, reason, created_at) VALUES ($1, 5000, 'USD', 'Top-up', 0)", [owner])
        let quotaBefore = try #require(try site.db.scalar("SELECT quota_bytes FROM users WHERE id = $1", [owner], as: Int64.self))

        let answers = Mutex<[HTTPResult]>([])
        onThreads(20) { _ in
            if let answer = try? buy(site, key: "order-1", #"{"gb":2}"#) { answers.withLock { $0.append(answer) } }
        }
        let got = answers.withLock { $0 }
        #expect(got.count == 20 && got.allSatisfy { $0.status == 201 } && Set(got.map(\.text)).count == 1, "\(got.map(\.status))")
        #expect(got.first?.text.contains(#""costMinor":1000"#) == true && got.first?.text.contains(#""balanceMinor":4000"#) == true)
        #expect(try site.db.scalar("SELECT count(*) FROM storage_purchases", as: Int.self) == 1)
        #expect(try site.db.scalar("SELECT count(*) FROM balance_ledger WHERE amount_minor < 0", as: Int.self) == 1)
        #expect(try site.db.scalar("SELECT quota_bytes FROM users WHERE id = $1", [owner], as: Int64.self) == quotaBefore + 2_000_000_000,
                "the quota follows at once")
        let late = try buy(site, key: "order-1", #"{"gb":2}"#)
        #expect(late.status == 201 && late.text == got.first?.text, "replayed byte for byte")
        let other = try buy(site, key: "order-1", #"{"gb":3}"#)
        #expect(other.status == 422 && other.text.contains("idempotency_mismatch"))
        #expect(try site.db.scalar("SELECT count(*) FROM balance_ledger WHERE amount_minor < 0", as: Int.self) == 1, "charged once")

        #expect(try buy(site, key: nil, #"{"gb":1}"#).status == 400)
        #expect(try buy(site, key: String(repeating: "k", count: 256), #"{"gb":1}"#).status == 400)
        for (n, bad) in [#"{"gb":0}"#, #"{"gb":2.5}"#, #"{"gb":"3"}"#, #"{"gb":101}"#, #"{"gb":1e30}"#, #"{"gb":1,"coupon":"x"}"#, "[]", #"{"gb":true}"#].enumerated() {
            let refused = try buy(site, key: "bad-\(n)", bad)
            #expect(refused.status == 422 || refused.status == 400, "\(bad): \(refused.status) \(refused.text)")
        }
        let changed = try buy(site, key: "order-2", #"{"gb":1,"expectedCostMinor":400}"#)
        #expect(changed.status == 409 && changed.text.contains(#""code":"pricing_changed""#) && changed.text.contains(#""costMinor":500"#))
        let poor = try buy(site, key: "order-3", #"{"gb":100}"#)
        #expect(poor.status == 402 && poor.text.contains(#""code":"insufficient_balance""#) && poor.text.contains(#""shortfallMinor":46000"#), "\(poor.text)")
        #expect(try buy(site, key: "order-3", #"{"gb":100}"#).text == poor.text, "a refusal is replayed too")
        try checkInvariants(site, owner: owner)
        let list = try site.owner.get("/api/v1/storage/purchases", headers: [("Accept", "application/json")]).text
        #expect(list.hasPrefix(#"{"purchases":[{"id":"#) && list.contains(#""gb":2"#))
        let quota = try site.owner.get("/api/v1/storage/quota", headers: [("Accept", "application/json")]).text
        #expect(quota.contains(#""purchasedBytes":2000000000"#))
    }

    @Test("balance ÷ price + 5 purchases at once with different keys: never below zero, exactly the affordable ones pass, the debits are exactly those")
    func manyKeys() throws {
        let site = try DemoSite(workers: 2, threads: 8)
        defer { site.server.stop() }
        _ = try site.owner.get("/dashboard")
        let owner = try #require(try site.db.scalar("SELECT id FROM users WHERE email_normalized = 'owner@example.com'", as: Int64.self))
        try site.db.execute("""
            INSERT INTO storage_pricing_versions (price_per_gb_minor, currency, min_gb, max_gb, validity_days, free_storage_bytes, over_quota_policy, created_at)
            VALUES (700, 'USD', 1, 100, NULL, 5000000000, 'block', 0)
            """)
        try site.db.execute("INSERT INTO balance_ledger (user_id, amount_minor, currency, reason, created_at) VALUES ($1, 7000, 'USD', 'Top-up', 0)", [owner])
        let statuses = Mutex<[Int]>([])
        onThreads(15) { n in
            if let answer = try? buy(site, key: "k-\(n)", #"{"gb":1}"#) { statuses.withLock { $0.append(answer.status) } }
        }
        let got = statuses.withLock { $0 }.sorted()
        #expect(got == Array(repeating: 201, count: 10) + Array(repeating: 402, count: 5), "\(got)")
        #expect(try site.db.scalar("SELECT sum(amount_minor) FROM balance_ledger WHERE amount_minor < 0", as: Int64.self) == -7000)
        #expect(try site.db.scalar("SELECT count(*) FROM storage_purchases WHERE expires_at IS NULL", as: Int.self) == 10, "never expires")
        try checkInvariants(site, owner: owner)
    }
}
