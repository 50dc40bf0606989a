import Database
import Foundation
import Testing
import TestSupport

@Suite("Balances through nginx: the admin's credits and debits, the user's statement and its CSV", .serialized,
       .enabled(if: integrationEnabled, "set INTAKE_INTEGRATION=1 (scripts/test does)"))
struct BillingTests {
    @Test("an admin credits and debits a user (a debit past the balance refused, nothing written); the user sees the balance, the statement with running balances, a month of it, and the CSV")
    func balances() throws {
        let site = try DemoSite()
        defer { site.server.stop() }
        let credentials = try String(contentsOfFile: site.server.home + "/demo-credentials.txt", encoding: .utf8)
        let password = try #require(credentials.split(separator: "\n").first { $0.hasPrefix("admin") }?.split(separator: " ").last)
        let admin = site.server.session()
        _ = try admin.get("/login")
        _ = try admin.post("/login", form: [("email", "admin@example.com"), ("password", String(password))])
        let ownerID = try #require(try site.db.scalar("SELECT id FROM users WHERE email_normalized = 'owner@example.com'", as: Int64.self))
        _ = try admin.get("/admin/users/\(ownerID)")
        let credit = try admin.post("/admin/users/\(ownerID)/balance", form: [("amount", "12.50"), ("direction", "credit"), ("reason", "Welcome credit")])
        #expect(credit.status == 303)
        _ = try admin.get("/admin/users/\(ownerID)")
        let tooMuch = try admin.post("/admin/users/\(ownerID)/balance", form: [("amount", "20"), ("direction", "debit"), ("reason", "Oops")])
        #expect(tooMuch.status == 422 && tooMuch.text.contains("below zero") && tooMuch.text.contains(#"value="Oops""#), "\(tooMuch.status)")
        let badAmount = try admin.post("/admin/users/\(ownerID)/balance", form: [("amount", "1e3"), ("direction", "credit"), ("reason", "x")])
        #expect(badAmount.status == 422)
        let noReason = try admin.post("/admin/users/\(ownerID)/balance", form: [("amount", "1"), ("direction", "credit"), ("reason", " ")])
        #expect(noReason.status == 422 && noReason.text.contains("Say why"))
        _ = try admin.get("/admin/users/\(ownerID)")
        #expect(try admin.post("/admin/users/\(ownerID)/balance", form: [("amount", "2.50"), ("direction", "debit"), ("reason", "=cmd|' /C calc'!A0")]).status == 303)
        #expect(try admin.get("/admin/users/\(ownerID)").text.contains("$10.00"))
        #expect(try site.db.scalar("SELECT count(*) FROM balance_ledger", as: Int.self) == 2)
        #expect(try site.db.scalar("SELECT count(*) FROM audit_log WHERE action IN ('balance.credit', 'balance.debit')", as: Int.self) == 2)

        let page = try site.owner.get("/dashboard/billing")
        #expect(page.status == 200 && page.text.contains("$10.00") && page.text.contains("Welcome credit") && page.text.contains("+12.50")
                && page.text.contains("-2.50") && page.text.contains(#"href="/dashboard/billing""#))
        let csv = try site.owner.get("/dashboard/billing/statement.csv")
        #expect(csv.headers["content-type"] == "text/csv; charset=utf-8" && csv.headers["content-disposition"]?.contains("statement.csv") == true)
        let rows = csv.text.split(separator: "\r\n").map(String.init)
        #expect(rows.count == 3 && rows[0] == "date,reason,amount,balance,currency")
        #expect(rows[1].hasSuffix(",Welcome credit,12.50,12.50,USD") && rows[2].contains(",'=cmd|' /C calc'!A0,-2.50,10.00,USD"), "\(rows)")
        let month = UTCDate(site.server).month
        #expect(try site.owner.get("/dashboard/billing?month=\(month)").text.contains("Welcome credit"))
        #expect(try site.owner.get("/dashboard/billing?month=2001-01").text.contains("No changes in 2001-01"))
        #expect(try site.owner.get("/dashboard/billing?month=13").status == 400)
        let api = try site.owner.get("/api/v1/billing/balance", headers: [("Accept", "application/json")])
        #expect(api.text == #"{"balance":"10.00","balanceMinor":1000,"currency":"USD"}"#)
        // Another user's balance is not reachable; a user cannot change a balance.
        _ = try site.owner.get("/dashboard")
        #expect(try site.owner.post("/admin/users/\(ownerID)/balance", form: [("amount", "100"), ("direction", "credit"), ("reason", "Me")]).status == 403)
        #expect(try site.db.scalar("SELECT count(*) FROM balance_ledger", as: Int.self) == 2)
    }
}

/// This month as `YYYY-MM`, by the system clock the server also reads.
private struct UTCDate {
    let month: String
    init(_ server: IntakeTestServer) {
        var t = time(nil)
        var parts = tm()
        gmtime_r(&t, &parts)
        month = String(format: "%04d-%02d", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1)
    }
}
