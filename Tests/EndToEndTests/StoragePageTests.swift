import Database
import Foundation
import Synchronization
import Testing
import TestSupport

@Suite("The storage page through nginx: usage and pricing, the server-side preview, the confirm form's idempotency key, refusals that charge nothing", .serialized,
       .enabled(if: integrationEnabled, "set INTAKE_INTEGRATION=1 (scripts/test does)"))
struct StoragePageTests {
    /// The demo site with the owner's id; `pricing` saved ($5.00 per GB by default) and `credit` on the balance.
    func site(priceMinor: Int64? = 500, validityDays: Int? = 30, policy: String = "block", grace: Int? = nil, credit: Int64 = 2000,
              threads: Int = 4) throws -> (DemoSite, Int64) {
        let site = try DemoSite(workers: 2, threads: threads)
        let owner = try #require(try site.db.scalar("SELECT id FROM users WHERE email_normalized = 'owner@example.com'", as: Int64.self))
        if let priceMinor { try price(site, priceMinor, validityDays: validityDays, policy: policy, grace: grace) }
        if credit > 0 {
            try site.db.execute("INSERT INTO balance_ledger (user_id, amount_minor, currency, reason, created_at) VALUES ($1, $2, 'USD', 'Top-up', 0)",
                                [owner, credit])
        }
        return (site, owner)
    }

    func price(_ site: DemoSite, _ minor: Int64, validityDays: Int? = 30, policy: String = "block", grace: Int? = nil) throws {
        try site.db.execute("""
            INSERT INTO storage_pricing_versions (price_per_gb_minor, currency, min_gb, max_gb, validity_days, free_storage_bytes, over_quota_policy, grace_days, created_at)
            VALUES ($1, 'USD', 1, 100, $2, 5000000000, $3, $4, 0)
            """, [minor, validityDays, policy, grace])
    }

    /// The hidden fields of the confirm form on `page`, in order, with the CSRF token.
    func confirmForm(_ page: HTTPResult) throws -> [(String, String)] {
        try ["csrf_token", "gb", "expected_cost_minor", "key"].map { name in
            let range = try #require(page.text.range(of: #"name="\#(name)" value=""#), "no \(name) field in: \(page.text.prefix(3000))")
            return (name, String(page.text[range.upperBound...].prefix { $0 != "\"" }))
        }
    }

    /// Posts `form` as the owner's browser would (session cookie, urlencoded), on any thread.
    func post(_ site: DemoSite, _ form: [(String, String)]) throws -> HTTPResult {
        let body = form.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)" }.joined(separator: "&")
        return try HTTPClient.request(port: site.server.port, method: "POST", path: "/dashboard/storage/purchase",
                                      headers: [("Cookie", "intake_session=\(site.owner.cookies["intake_session"]!)"),
                                                ("Content-Type", "application/x-www-form-urlencoded")],
                                      body: Array(body.utf8))
    }

    func debits(_ site: DemoSite) throws -> [Int64] {
        try site.db.query("SELECT amount_minor FROM balance_ledger WHERE amount_minor < 0 ORDER BY id").map { try $0.get("amount_minor") }
    }

    /// sum(ledger) is the balance the API reports, never below zero; the purchased extra storage is the active purchases' sum.
    func checkInvariants(_ site: DemoSite, owner: Int64) throws {
        let ledger = try site.db.scalar("SELECT coalesce(sum(amount_minor), 0) FROM balance_ledger WHERE user_id = $1", [owner], as: Int64.self) ?? -1
        let api = try site.owner.get("/api/v1/billing/balance", headers: [("Accept", "application/json")]).text
        #expect(api.contains(#""balanceMinor":\#(ledger),"#) && ledger >= 0, "\(api) vs \(ledger)")
        let active = try site.db.scalar("SELECT coalesce(sum(bytes), 0) FROM storage_purchases WHERE user_id = $1 AND expired_at IS NULL",
                                        [owner], as: Int64.self)
        #expect(try site.db.scalar("SELECT purchased_extra_bytes FROM users WHERE id = $1", [owner], as: Int64.self) == active)
    }

    /// A day as the pages write it, `now + days`.
    func day(in days: Int) -> String {
        var t = time(nil) + days * 86400
        var parts = tm()
        gmtime_r(&t, &parts)
        return String(format: "%04d-%02d-%02d", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday))
    }

    @Test("without pricing the page says storage is not for sale and has no form (a post is refused, 409); priced, it shows the usage bar's parts, the balance, the price, range and validity for the script; the nav and the billing page link to it")
    func pageAndPricing() throws {
        let (site, owner) = try site(priceMinor: nil)
        defer { site.server.stop() }
        let bare = try site.owner.get("/dashboard/storage")
        #expect(bare.status == 200 && bare.text.contains("Extra storage is not for sale yet") && !bare.text.contains("purchase-form"), "\(bare.status)")
        #expect(bare.text.contains(#"<a href="/dashboard/storage" aria-current="page">Usage</a>"#))
        #expect(bare.text.contains("$20.00"), "the balance")
        let refused = try post(site, [("csrf_token", site.owner.csrfToken!), ("gb", "1"), ("expected_cost_minor", "0"), ("key", "k1")])
        #expect(refused.status == 409 && refused.text.contains("not for sale"))
        #expect(try debits(site).isEmpty)

        try price(site, 500, validityDays: 30)
        let page = try site.owner.get("/dashboard/storage")
        #expect(page.status == 200)
        for expected in ["$5.00 per GB", "from 1 to 100 GB at a time", "Each purchase lasts 30 days", #"data-price-minor="500""#, #"data-exponent="2""#,
                         #"data-currency="$""#, #"data-balance-minor="2000""#, #"data-min="1""#, #"data-max="100""#, "Free storage",
                         #"used of <strong class="quota-total">5 GB</strong>"#, #"<script src="/js/storage.js" defer></script>"#,
                         "You have not bought any storage."] {
            #expect(page.text.contains(expected), "\(expected)")
        }
        #expect(try site.owner.get("/dashboard/billing").text.contains(#"<a href="/dashboard/storage">"#))
        try checkInvariants(site, owner: owner)
    }

    @Test("the preview states the charge, the balance left, the quota after and the expiry; confirming buys once; the same form posted again lands on the same success; every preview has its own key")
    func previewAndConfirm() throws {
        let (site, owner) = try site()
        defer { site.server.stop() }
        let preview = try site.owner.get("/dashboard/storage/purchase?gb=3")
        #expect(preview.status == 200)
        let sentence = "3 GB for $15.00, from your balance of $20.00, leaving $5.00; your quota becomes 8 GB; expires on "
        #expect(preview.text.contains(sentence) && preview.text.contains("(30 days)."), "\(preview.text)")
        #expect(preview.text.contains(day(in: 30)) || preview.text.contains(day(in: 31)))
        #expect(preview.text.contains("Confirm: pay $15.00"))
        let form = try confirmForm(preview)
        #expect(form[1].1 == "3" && form[2].1 == "1500")
        #expect(form[3].1.count == 32 && form[3].1.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }, "128 bits in hex: \(form[3].1)")
        let other = try confirmForm(try site.owner.get("/dashboard/storage/purchase?gb=3"))
        #expect(other[3].1 != form[3].1, "a key per rendering")

        let first = try post(site, form)
        #expect(first.status == 303 && first.headers["location"] == "/dashboard/storage", "\(first.status) \(first.text.prefix(500))")
        let flash = try #require(first.setCookies.first { $0.hasPrefix("intake_flash=") })
        site.owner.setCookie("intake_flash", String(flash.dropFirst("intake_flash=".count).prefix { $0 != ";" }))
        let after = try site.owner.get("/dashboard/storage")
        let bought = "Bought 3 GB for $15.00, until "
        #expect(after.text.contains(bought) && after.text.contains("Your quota is now 8 GB. Your balance is $5.00."), "\(after.text)")
        #expect(after.text.contains(#"used of <strong class="quota-total">8 GB</strong>"#))
        #expect(after.text.contains("<td class=\"num\" data-label=\"Storage\">3 GB</td><td class=\"num\" data-label=\"Cost\">$15.00</td>"), "the purchase is listed")
        #expect(try debits(site) == [-1500])

        let again = try post(site, form)
        #expect(again.status == 303 && again.headers["location"] == "/dashboard/storage")
        #expect(again.setCookies.first { $0.hasPrefix("intake_flash=") } == flash, "the same success, the same message")
        #expect(try debits(site) == [-1500], "charged once")
        #expect(try site.db.scalar("SELECT count(*) FROM storage_purchases", as: Int.self) == 1)
        #expect(try site.db.scalar("SELECT quota_bytes FROM users WHERE id = $1", [owner], as: Int64.self) == 8_000_000_000)

        // The other rendering is another purchase: 3 GB more, and now the balance is short.
        let second = try post(site, other)
        #expect(second.status == 402 && second.text.contains("Nothing was charged. This costs $15.00 and your balance is $5.00: $10.00 more is needed."),
                "\(second.status)")
        #expect(!second.text.contains("confirm-form"), "no Confirm button when the balance cannot pay")
        try checkInvariants(site, owner: owner)
    }

    @Test("one confirm form posted 20 times at once: one purchase, one debit, and every answer the same 303 to the storage page with the same flash")
    func twentyAtOnce() throws {
        let (site, owner) = try site(threads: 8)
        defer { site.server.stop() }
        let form = try confirmForm(try site.owner.get("/dashboard/storage/purchase?gb=2"))
        let answers = Mutex<[HTTPResult]>([])
        let failures = Mutex<[String]>([])
        onThreads(20) { _ in
            do {
                let answer = try post(site, form)
                answers.withLock { $0.append(answer) }
            } catch { failures.withLock { $0.append("\(error)") } }
        }
        let got = answers.withLock { $0 }
        #expect(failures.withLock { $0 }.isEmpty && got.count == 20, "\(failures.withLock { $0 })")
        #expect(got.allSatisfy { $0.status == 303 && $0.headers["location"] == "/dashboard/storage" }, "\(got.map(\.status))")
        let flashes = Set(got.compactMap { $0.setCookies.first { $0.hasPrefix("intake_flash=") } })
        #expect(flashes.count == 1, "\(flashes)")
        #expect(try debits(site) == [-1000])
        #expect(try site.db.scalar("SELECT count(*) FROM storage_purchases", as: Int.self) == 1)
        #expect(try site.db.scalar("SELECT count(*) FROM idempotency_keys WHERE scope = 'storage.purchase.form'", as: Int.self) == 1)
        #expect(try site.db.scalar("SELECT purchased_extra_bytes FROM users WHERE id = $1", [owner], as: Int64.self) == 2_000_000_000)
        try checkInvariants(site, owner: owner)
    }

    @Test("without the CSRF token, or with another, the post is refused (403) and nothing is charged")
    func csrf() throws {
        let (site, owner) = try site()
        defer { site.server.stop() }
        let form = try confirmForm(try site.owner.get("/dashboard/storage/purchase?gb=1"))
        let missing = try post(site, Array(form.dropFirst()))
        #expect(missing.status == 403 && missing.text.contains("nothing was changed"), "\(missing.status)")
        let wrong = try post(site, [("csrf_token", String(repeating: "A", count: 43))] + Array(form.dropFirst()))
        #expect(wrong.status == 403)
        let foreign = try HTTPClient.request(port: site.server.port, method: "POST", path: "/dashboard/storage/purchase",
                                             headers: [("Cookie", "intake_session=\(site.owner.cookies["intake_session"]!)"),
                                                       ("Content-Type", "application/x-www-form-urlencoded"), ("Origin", "https://evil.example")],
                                             body: Array(form.map { "\($0.0)=\($0.1)" }.joined(separator: "&").utf8))
        #expect(foreign.status == 403)
        #expect(try debits(site).isEmpty)
        #expect(try post(site, form).status == 303, "the same form with its token buys")
        try checkInvariants(site, owner: owner)
    }

    /// Typed amounts the form refuses, and the message each gets.
    static let badAmounts: [(typed: String, message: String)] = [
        ("", "Enter how many GB to buy."),
        ("abc", "Enter a whole number of GB, digits only"),
        ("-5", "Enter a whole number of GB, digits only"),
        ("2.5", "Enter a whole number of GB, digits only"),
        ("1e3", "Enter a whole number of GB, digits only"),
        ("1 0", "Enter a whole number of GB, digits only"),
        ("１０", "full-width"),
        ("٣", "digits 0 to 9"),
        ("99999999999999999999999", "That is more than can be bought at once."),
        ("0", "Enter at least 1 GB."),
        ("101", "Buy from 1 to 100 GB at a time."),
        ("9223372036854775807", "Buy from 1 to 100 GB at a time."),
    ]

    @Test("bad amounts (empty, letters, a sign, a point, an exponent, full-width and Arabic-Indic digits, past 64 bits, 0, out of range): the preview and the post answer 422 with the field's message and the value kept, and charge nothing")
    func badAmounts() throws {
        let (site, owner) = try site()
        defer { site.server.stop() }
        for (n, (typed, message)) in Self.badAmounts.enumerated() {
            let encoded = typed.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
            let preview = try site.owner.get("/dashboard/storage/purchase?gb=" + encoded)
            #expect(preview.status == 422 && preview.text.contains(message), "\(typed): \(preview.status)")
            #expect(preview.text.contains(#"autocomplete="off" value="\#(typed)" aria-describedby="gb-error purchase-preview" aria-invalid="true">"#),
                    "\(typed): the value is kept, the field marked")
            let posted = try post(site, [("csrf_token", site.owner.csrfToken!), ("gb", typed), ("expected_cost_minor", "500"), ("key", "bad-\(n)")])
            #expect(posted.status == 422 && posted.text.contains(message), "\(typed): \(posted.status)")
        }
        #expect(try debits(site).isEmpty)
        #expect(try site.db.scalar("SELECT count(*) FROM idempotency_keys", as: Int.self) == 0)
        try checkInvariants(site, owner: owner)
    }

    @Test("a post not from the confirm step (no key, no stated cost, a key too long) is 400 and charges nothing; the key with another amount is 422 and charges nothing more")
    func incompleteAndMismatch() throws {
        let (site, owner) = try site()
        defer { site.server.stop() }
        let token = site.owner.csrfToken!
        for form in [[("gb", "1"), ("expected_cost_minor", "500")], [("gb", "1"), ("key", "k")], [("gb", "1"), ("expected_cost_minor", "5x"), ("key", "k")],
                     [("gb", "1"), ("expected_cost_minor", "500"), ("key", String(repeating: "k", count: 256))]] {
            let answer = try post(site, [("csrf_token", token)] + form)
            #expect(answer.status == 400 && answer.text.contains("did not come from the confirm step"), "\(form): \(answer.status)")
        }
        #expect(try debits(site).isEmpty)
        #expect(try post(site, [("csrf_token", token), ("gb", "1"), ("expected_cost_minor", "500"), ("key", "same")]).status == 303)
        let mismatch = try post(site, [("csrf_token", token), ("gb", "2"), ("expected_cost_minor", "1000"), ("key", "same")])
        #expect(mismatch.status == 422 && mismatch.text.contains("already used for another amount"))
        #expect(try debits(site) == [-500])
        try checkInvariants(site, owner: owner)
    }

    @Test("the balance short: the preview says by how much and offers no Confirm; a confirm posted anyway is 402 with the shortfall and charges nothing")
    func insufficientBalance() throws {
        let (site, owner) = try site()
        defer { site.server.stop() }
        let preview = try site.owner.get("/dashboard/storage/purchase?gb=10")
        #expect(preview.status == 200 && preview.text.contains("This costs $50.00 and your balance is $20.00: $30.00 more is needed."))
        #expect(!preview.text.contains("confirm-form") && preview.text.contains("10 GB for $50.00, from your balance of $20.00; "))
        let posted = try post(site, [("csrf_token", site.owner.csrfToken!), ("gb", "10"), ("expected_cost_minor", "5000"), ("key", "poor-1")])
        #expect(posted.status == 402 && posted.text.contains("Nothing was charged. This costs $50.00 and your balance is $20.00: $30.00 more is needed."),
                "\(posted.status)")
        #expect(try debits(site).isEmpty && (try site.db.scalar("SELECT count(*) FROM storage_purchases", as: Int.self)) == 0)
        // After a top-up the same form buys: a refusal is not kept with the key.
        try site.db.execute("INSERT INTO balance_ledger (user_id, amount_minor, currency, reason, created_at) VALUES ($1, 3000, 'USD', 'Top-up', 0)", [owner])
        #expect(try post(site, [("csrf_token", site.owner.csrfToken!), ("gb", "10"), ("expected_cost_minor", "5000"), ("key", "poor-1")]).status == 303)
        #expect(try debits(site) == [-5000])
        try checkInvariants(site, owner: owner)
    }

    @Test("the price changed after the preview: 409, the new price shown with a new confirm form and key, nothing charged; confirming that buys at the new price")
    func pricingChanged() throws {
        let (site, owner) = try site()
        defer { site.server.stop() }
        let form = try confirmForm(try site.owner.get("/dashboard/storage/purchase?gb=2"))
        try price(site, 600, validityDays: nil)
        let changed = try post(site, form)
        #expect(changed.status == 409 && changed.text.contains("2 GB now cost $12.00 (it said $10.00)"), "\(changed.status)")
        #expect(changed.text.contains("2 GB for $12.00, from your balance of $20.00, leaving $8.00; your quota becomes 7 GB; never expires."))
        let renewed = try confirmForm(changed)
        #expect(renewed[2].1 == "1200" && renewed[3].1 != form[3].1)
        #expect(try debits(site).isEmpty)
        #expect(try post(site, renewed).status == 303)
        #expect(try debits(site) == [-1200])
        #expect(try site.db.scalar("SELECT count(*) FROM storage_purchases WHERE expires_at IS NULL AND cost_minor = 1200", as: Int.self) == 1, "never expires")
        try checkInvariants(site, owner: owner)
    }

    @Test("notices: a purchase expiring within 7 days, an expired one marked, over quota with the delete_oldest policy's grace days; an admin override shown and kept by the preview")
    func notices() throws {
        let (site, owner) = try site(policy: "delete_oldest", grace: 14)
        defer { site.server.stop() }
        let now = Int64(time(nil))
        let version = try #require(try site.db.scalar("SELECT max(id) FROM storage_pricing_versions", as: Int64.self))
        try site.db.execute("""
            INSERT INTO storage_purchases (user_id, pricing_version_id, gb, bytes, cost_minor, currency, starts_at, expires_at, created_at)
            VALUES ($1, $2, 4, 4000000000, 2000, 'USD', $3, $4, $3)
            """, [owner, version, now - 27 * 86400, now + 3 * 86400 - 60])
        try site.db.execute("""
            INSERT INTO storage_purchases (user_id, pricing_version_id, gb, bytes, cost_minor, currency, starts_at, expires_at, created_at, expired_at)
            VALUES ($1, $2, 7, 7000000000, 3500, 'USD', $3, $4, $3, $4)
            """, [owner, version, now - 60 * 86400, now - 30 * 86400])
        try site.db.execute("UPDATE users SET purchased_extra_bytes = 4000000000 WHERE id = $1", [owner])
        let page = try site.owner.get("/dashboard/storage")
        #expect(page.text.contains("The 4 GB bought on \(day(in: -27)) expire on \(day(in: 3)) (in 3 days); your quota goes down by 4 GB then."), "\(page.text)")
        #expect(page.text.contains(#"<tr class="expired"><td class="num" data-label="Storage">7 GB</td>"#) && page.text.contains("expired on \(day(in: -30))"))
        #expect(page.text.contains(">expires in 3 days<"))
        #expect(!page.text.contains("over your quota"))

        try site.db.execute("UPDATE users SET storage_used_bytes = 9500000000 WHERE id = $1", [owner])
        let over = try site.owner.get("/dashboard/storage")
        #expect(over.text.contains("You are storing 9.5 GB, over your quota of 9 GB: new uploads to your portals are refused until you are within it"))
        #expect(over.text.contains("If you stay over quota for 14 days, your oldest files will be deleted until you are within it."))
        #expect(over.text.contains("usage usage-large usage-over"))

        try site.db.execute("UPDATE users SET quota_override_bytes = 20000000000 WHERE id = $1", [owner])
        let overridden = try site.owner.get("/dashboard/storage")
        #expect(overridden.text.contains("Administrator's override</dt><dd>20 GB") && !overridden.text.contains("quota-parts"))
        let preview = try site.owner.get("/dashboard/storage/purchase?gb=1")
        #expect(preview.text.contains("your quota stays 20 GB while the administrator&#39;s override is set"))
        try checkInvariants(site, owner: owner)
    }
}
