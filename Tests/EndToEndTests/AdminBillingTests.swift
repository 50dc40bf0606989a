import Database
import Foundation
import Testing
import TestSupport

/// The operator's billing report and the usage snapshots through nginx and the real binary. The
/// server's own jobs thread runs once at start, then waits an hour; the test runs
/// `intake jobs run` itself when it needs the snapshots.
@Suite("The admin billing report and usage snapshots through nginx", .serialized,
       .enabled(if: integrationEnabled, "set INTAKE_INTEGRATION=1 (scripts/test does)"))
struct AdminBillingTests {
    static let quietJobs = ["INTAKE_JOBS_INTERVAL": "3600"]

    /// The demo site with the admin signed in, and the owner's id.
    func site() throws -> (DemoSite, WebSession, Int64) {
        let site = try DemoSite(extraEnvironment: Self.quietJobs)
        let credentials = try String(contentsOfFile: site.server.home + "/demo-credentials.txt", encoding: .utf8)
        let password = try #require(credentials.split(separator: "\n").first { $0.hasPrefix("admin") }?.split(separator: " ").last)
        let admin = site.server.session()
        _ = try admin.get("/login")
        _ = try admin.post("/login", form: [("email", "admin@example.com"), ("password", String(password))])
        let ownerID = try #require(try site.db.scalar("SELECT id FROM users WHERE email_normalized = 'owner@example.com'", as: Int64.self))
        return (site, admin, ownerID)
    }

    /// This UTC month as `YYYY-MM`, by the system clock the server also reads.
    static func thisMonth() -> String {
        var t = time(nil)
        var parts = tm()
        gmtime_r(&t, &parts)
        return String(format: "%04d-%02d", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1)
    }

    @Test("after an admin credit and a purchase through the API, the report shows the purchase (not the credit) as this month's revenue, in the page and the CSV; a user gets 403, a visitor the sign-in page")
    func revenue() throws {
        let (site, admin, ownerID) = try site()
        defer { site.server.stop() }
        try site.db.execute("""
            INSERT INTO storage_pricing_versions (price_per_gb_minor, currency, min_gb, max_gb, validity_days, free_storage_bytes, over_quota_policy, created_at)
            VALUES (500, 'USD', 1, 100, 30, 5000000000, 'block', 0)
            """)
        _ = try admin.get("/admin/users/\(ownerID)")
        #expect(try admin.post("/admin/users/\(ownerID)/balance", form: [("amount", "50"), ("direction", "credit"), ("reason", "Top-up")]).status == 303)
        _ = try site.owner.get("/dashboard")
        let bought = try HTTPClient.request(port: site.server.port, method: "POST", path: "/api/v1/storage/purchase",
                                            headers: [("Cookie", "intake_session=\(site.owner.cookies["intake_session"]!)"),
                                                      ("X-CSRF-Token", site.owner.csrfToken!), ("Content-Type", "application/json"),
                                                      ("Accept", "application/json"), ("Idempotency-Key", "report-1")],
                                            body: Array(#"{"gb":3}"#.utf8))
        #expect(bought.status == 201, "\(bought.text)")
        let month = Self.thisMonth()

        let page = try admin.get("/admin/billing")
        #expect(page.status == 200 && page.text.contains("<h1>Revenue</h1>"))
        #expect(page.text.contains(#"href="/admin/billing" aria-current="page">Revenue</a>"#), "the admin nav links to it")
        let start = try #require(page.text.range(of: #"<th scope="row"><a href="/admin/billing?month=\#(month)">\#(month)</a></th>"#))
        let cells = String(page.text[start.upperBound...]).components(separatedBy: "</tr>")[0]
        #expect(cells.contains("<div>$0.00</div>") && cells.contains("<div>$15.00</div>") && cells.contains("<div><strong>$15.00</strong></div>"),
                "plans 0, purchases 15.00, total 15.00 (the 50.00 credit is not revenue): \(cells)")
        let table = String(page.text.components(separatedBy: #"<table class="data billing-report">"#).last ?? "").components(separatedBy: "</table>")[0]
        #expect(!table.contains("50.00") && table.contains("$15.00"), "the credit is in no month")
        #expect(page.text.components(separatedBy: #"<th scope="row">"#).count - 1 == 12, "the last 12 months")
        #expect(page.text.contains("No user is in a grace period."))

        let csv = try admin.get("/admin/billing/report.csv")
        #expect(csv.status == 200 && csv.headers["content-type"] == "text/csv; charset=utf-8"
                && csv.headers["content-disposition"] == #"attachment; filename="billing-report.csv""#)
        let lines = csv.text.components(separatedBy: "\r\n").filter { !$0.isEmpty }
        #expect(lines.count == 13 && lines[0] == "month,currency,plan_revenue,purchase_revenue,total,failed_renewals,gb_days", "\(lines.prefix(3))")
        #expect(lines[1].hasPrefix("\(month),USD,0.00,15.00,15.00,0,"), "\(lines[1])")
        #expect(lines.dropFirst(2).allSatisfy { $0.contains(",USD,0.00,0.00,0.00,0,") })
        let one = try admin.get("/admin/billing/report.csv?month=\(month)")
        #expect(one.headers["content-disposition"] == #"attachment; filename="billing-report-\#(month).csv""#
                && one.text.components(separatedBy: "\r\n").filter { !$0.isEmpty }.count == 2)
        #expect(try admin.get("/admin/billing?month=\(month)").text.contains("<div>$15.00</div>"))
        #expect(try admin.get("/admin/billing?month=2001-01").text.contains("<div>$0.00</div>"))
        #expect(try admin.get("/admin/billing?month=January").status == 400)

        let user = try site.owner.get("/admin/billing")
        #expect(user.status == 403 && !user.text.contains("$15.00"))
        let userCSV = try site.owner.get("/admin/billing/report.csv")
        #expect(userCSV.status == 403 && !userCSV.text.contains("month,currency"))
        let visitor = try site.server.get("/admin/billing/report.csv")
        #expect((visitor.status == 302 || visitor.status == 303) && visitor.headers["location"]?.hasPrefix("/login?next=") == true, "\(visitor.status)")
    }

    @Test("`intake jobs run` snapshots every user once a day; then the admin user page draws the usage chart and the statement shows the month's GB-days")
    func snapshotsAndChart() throws {
        let (site, admin, ownerID) = try site()
        defer { site.server.stop() }
        // The run is 90 s ahead (past the server's jobs lease): keep it on the server's UTC day.
        let secondsToMidnight = 86400 - Int(time(nil) % 86400)
        if secondsToMidnight < 120 { Thread.sleep(forTimeInterval: Double(secondsToMidnight + 1)) }
        let ran = try IntakeTestServer.run("/usr/bin/faketime", ["-f", "+90", IntakeTestServer.binary, "jobs", "run"], environment: site.server.environment)
        #expect(ran.contains("jobs ran"), "\(ran)")
        let users = try #require(try site.db.scalar("SELECT count(*) FROM users", as: Int.self))
        let today = Int64(time(nil)) / 86400
        #expect(try site.db.scalar("SELECT count(*) FROM usage_snapshots WHERE day = $1", [today], as: Int.self) == users)
        _ = try IntakeTestServer.run("/usr/bin/faketime", ["-f", "+150", IntakeTestServer.binary, "jobs", "run"], environment: site.server.environment)
        #expect(try site.db.scalar("SELECT count(*) FROM usage_snapshots", as: Int.self) == users, "a second run the same day adds nothing")

        let page = try admin.get("/admin/users/\(ownerID)")
        #expect(page.status == 200)
        #expect(page.text.contains(#"<svg class="usage-chart""#) && page.text.contains(#"<title id="usage-chart-title">Storage used by "#)
                && page.text.contains(#"class="usage-chart-quota""#) && !page.text.contains("No usage recorded yet"))
        let bytes = try #require(try site.db.scalar("SELECT bytes FROM usage_snapshots WHERE user_id = $1", [ownerID], as: Int64.self))
        let statement = try site.owner.get("/dashboard/billing")
        #expect(statement.text.contains("Storage used: \(String(format: "%.2f", Double(bytes) / 1e9)) GB-days in \(Self.thisMonth())"), "\(bytes)")
        // A user created after today's snapshot has none yet.
        try site.server.createUser(email: "late@example.com")
        let lateID = try #require(try site.db.scalar("SELECT id FROM users WHERE email_normalized = 'late@example.com'", as: Int64.self))
        #expect(try admin.get("/admin/users/\(lateID)").text.contains("No usage recorded yet."))
    }
}
