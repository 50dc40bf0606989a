import Database
import Foundation
import Synchronization
import Testing
import TestSupport
@testable import Intake
@testable import IntakeWeb

/// Storage cost tracking: the daily snapshots, GB-days, the operator's monthly report and the
/// admin page's usage chart.
@Suite("Storage cost tracking")
struct UsageSnapshotsTests {
    static let usd = Currency(code: "USD")!
    static let kwd = Currency(code: "KWD")!
    /// 2027-01-15 08:00 UTC.
    static let now: Int64 = 1_800_000_000
    static let today: Int64 = 20833

    static func addUser(_ db: Database, id: Int64, usedBytes: Int64 = 0) throws {
        try db.execute("""
            INSERT INTO users (id, email, email_normalized, name, password_hash, role, created_at, updated_at)
            VALUES ($1, $2, $2, $3, 'x', 'user', 0, 0)
            """, [id, "u\(id)@example.com", "User \(id)"])
        try db.execute("UPDATE users SET storage_used_bytes = $1 WHERE id = $2", [usedBytes, id])
    }

    static func snapshots(_ db: Database) throws -> [[Int64]] {
        try db.query("SELECT user_id, day, bytes, quota_bytes FROM usage_snapshots ORDER BY user_id, day").map {
            [try $0.get("user_id"), try $0.get("day"), try $0.get("bytes"), try $0.get("quota_bytes")]
        }
    }

    /// The planner's description of `sql`, one line per step.
    static func plan(_ db: Database, _ sql: String, _ arguments: [any DatabaseValueConvertible]) throws -> String {
        try db.query("EXPLAIN QUERY PLAN " + sql, arguments).map { try $0.get("detail", as: String.self) }.joined(separator: "\n")
    }

    @Suite("Daily snapshots")
    struct Daily {
        @Test("the clock's UTC day is the snapshot's day (2027-01-15 08:00 is day 20833; midnight starts the next)")
        func dayOfEpoch() {
            #expect(UsageSnapshots.day(of: UsageSnapshotsTests.now) == UsageSnapshotsTests.today)
            #expect(UsageSnapshots.day(of: 20834 * 86400 - 1) == 20833 && UsageSnapshots.day(of: 20834 * 86400) == 20834)
            #expect(CivilDate(days: UsageSnapshotsTests.today).text == "2027-01-15")
        }

        @Test("one row per user with the counters as they are; a second run the same day writes nothing and changes nothing")
        func idempotent() throws {
            try withDatabase { db in
                try addUser(db, id: 1, usedBytes: 1_500_000_000)
                try addUser(db, id: 2, usedBytes: 0)
                try addUser(db, id: 7, usedBytes: 42)
                try db.execute("UPDATE users SET quota_override_bytes = 3000000000 WHERE id = 1")
                let clock = ManualClock(UsageSnapshotsTests.now)
                let snapshots = UsageSnapshots(db: db, clock: clock)
                #expect(try snapshots.takeDaily() == 3)
                let first = try UsageSnapshotsTests.snapshots(db)
                let quota2 = try #require(try db.scalar("SELECT quota_bytes FROM users WHERE id = 2", as: Int64.self))
                #expect(first == [[1, 20833, 1_500_000_000, 3_000_000_000], [2, 20833, 0, quota2], [7, 20833, 42, quota2]])
                try db.execute("UPDATE users SET storage_used_bytes = 9 WHERE id = 1")
                clock.advance(3600)
                #expect(try snapshots.takeDaily() == 0)
                #expect(try UsageSnapshotsTests.snapshots(db) == first, "the day's first snapshot stands")
            }
        }

        @Test("a new UTC day writes a new row for everyone, and a user added later in the day gets theirs on the next run")
        func dayBoundary() throws {
            try withDatabase { db in
                try addUser(db, id: 1, usedBytes: 10)
                let clock = ManualClock(20834 * 86400 - 1)  // 2027-01-15 23:59:59
                let snapshots = UsageSnapshots(db: db, clock: clock)
                #expect(try snapshots.takeDaily() == 1)
                try addUser(db, id: 2, usedBytes: 20)
                #expect(try snapshots.takeDaily() == 1, "only the new user")
                try db.execute("UPDATE users SET storage_used_bytes = 11 WHERE id = 1")
                clock.advance(1)  // midnight
                #expect(try snapshots.takeDaily() == 2)
                #expect(try UsageSnapshotsTests.snapshots(db).map { [$0[0], $0[1], $0[2]] } == [[1, 20833, 10], [1, 20834, 11], [2, 20833, 20], [2, 20834, 20]])
            }
        }

        @Test("users are copied in windows of ids: gaps in the ids and a window smaller than the table lose nobody", arguments: [1, 3, 10_000])
        func batches(_ batchSize: Int64) throws {
            try withDatabase { db in
                let ids: [Int64] = [1, 2, 5, 6, 7, 13, 40, 41]
                for id in ids { try addUser(db, id: id, usedBytes: id * 1000) }
                let snapshots = UsageSnapshots(db: db, clock: ManualClock(UsageSnapshotsTests.now))
                #expect(try snapshots.takeDaily(batchSize: batchSize) == ids.count)
                let users = try UsageSnapshotsTests.snapshots(db).map { $0[0] }
                #expect(users == ids)
                #expect(try snapshots.takeDaily(batchSize: batchSize) == 0)
            }
        }

        @Test("no users: nothing to write")
        func empty() throws {
            try withDatabase { db in
                let written = try UsageSnapshots(db: db, clock: ManualClock(UsageSnapshotsTests.now)).takeDaily()
                #expect(written == 0)
            }
        }

        @Test("8 runners at once, each on its own connection: every user gets exactly one row, and the rows written add up to the users")
        func concurrent() throws {
            try withDatabase { db in
                for id in Int64(1)...300 { try addUser(db, id: id, usedBytes: id) }
                let location = db.location
                let outcome = Mutex<(written: Int, errors: [String])>((0, []))
                onThreads(8) { _ in
                    do {
                        let own = try location.open()
                        let written = try UsageSnapshots(db: own, clock: ManualClock(UsageSnapshotsTests.now)).takeDaily(batchSize: 50)
                        outcome.withLock { $0.written += written }
                    } catch {
                        outcome.withLock { $0.errors.append("\(error)") }
                    }
                }
                let result = outcome.withLock { $0 }
                #expect(result.errors.isEmpty, "\(result.errors)")
                #expect(result.written == 300)
                #expect(try db.scalar("SELECT count(*) FROM usage_snapshots", as: Int.self) == 300)
                #expect(try db.scalar("SELECT count(DISTINCT user_id) FROM usage_snapshots WHERE day = $1", [UsageSnapshotsTests.today], as: Int.self) == 300)
            }
        }

        @Test("100,000 users are snapshotted in well under the jobs interval, and a rerun is as quick")
        func hundredThousand() throws {
            try withDatabase { db in
                _ = try db.write {
                    try db.execute("""
                        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000)
                        INSERT INTO users (id, email, email_normalized, name, password_hash, role, storage_used_bytes, created_at, updated_at)
                        SELECT i, 'u' || i || '@example.com', 'u' || i || '@example.com', 'U', 'x', 'user', i * 1000, 0, 0 FROM n
                        """)
                }
                let snapshots = UsageSnapshots(db: db, clock: ManualClock(UsageSnapshotsTests.now))
                let start = Date()
                #expect(try snapshots.takeDaily() == 100_000)
                let first = Date().timeIntervalSince(start)
                let again = Date()
                #expect(try snapshots.takeDaily() == 0)
                let second = Date().timeIntervalSince(again)
                #expect(first < 10 && second < 10, "\(first) s, then \(second) s")
                #expect(try db.scalar("SELECT sum(bytes) FROM usage_snapshots", as: Int64.self) == 1000 * 100_000 * 100_001 / 2)
            }
        }

        @Test("the chart's series: the user's own rows of the last N days, oldest first")
        func series() throws {
            try withDatabase { db in
                try addUser(db, id: 1)
                try addUser(db, id: 2)
                let today = UsageSnapshotsTests.today
                for (user, day, bytes) in [(1, today - 90, 1), (1, today - 89, 2), (1, today - 1, 3), (1, today, 4), (2, today, 99), (1, today + 1, 5)] as [(Int64, Int64, Int64)] {
                    try db.execute("INSERT INTO usage_snapshots (user_id, day, bytes, quota_bytes) VALUES ($1, $2, $3, 100)", [user, day, bytes])
                }
                let series = try UsageSnapshots(db: db, clock: ManualClock(UsageSnapshotsTests.now)).series(userID: 1, days: 90)
                #expect(series == [UsageSnapshot(day: today - 89, bytes: 2, quotaBytes: 100), UsageSnapshot(day: today - 1, bytes: 3, quotaBytes: 100),
                                   UsageSnapshot(day: today, bytes: 4, quotaBytes: 100)])
            }
        }

        @Test("GB-days: each day's bytes over 10⁹, summed over the month's days only; all users by month")
        func gbDays() throws {
            try withDatabase { db in
                try addUser(db, id: 1)
                try addUser(db, id: 2)
                let january = BillingMonth(year: 2027, month: 1)
                let december = january.previous
                // 1.5 GB on the last day of December; 1.5 GB, 2 GB and 0.25 GB in January; user 2: 1 TB for one January day.
                for (user, day, bytes) in [(1, january.firstDay - 1, 1_500_000_000), (1, january.firstDay, 1_500_000_000),
                                           (1, january.firstDay + 1, 2_000_000_000), (1, january.endDay - 1, 250_000_000),
                                           (1, january.endDay, 7_000_000_000), (2, january.firstDay + 3, 1_000_000_000_000)] as [(Int64, Int64, Int64)] {
                    try db.execute("INSERT INTO usage_snapshots (user_id, day, bytes, quota_bytes) VALUES ($1, $2, $3, 0)", [user, day, bytes])
                    try db.execute(UsageSnapshots.SQL.dayTotal, [day])  // as takeDaily sums its day
                }
                let snapshots = UsageSnapshots(db: db, clock: ManualClock(UsageSnapshotsTests.now))
                #expect(try snapshots.gbDays(userID: 1, monthStart: january.start, monthEnd: january.end) == 3.75)
                #expect(try snapshots.gbDays(userID: 1, monthStart: december.start, monthEnd: december.end) == 1.5)
                #expect(try snapshots.gbDays(userID: 2, monthStart: december.start, monthEnd: december.end) == 0)
                let byMonth = try snapshots.gbDaysByMonth([january, december, january.next.next])
                #expect(byMonth == [january: 1003.75, december: 1.5, january.next.next: 0])
                #expect(GBDaysText.format(1003.75) == "1003.75" && GBDaysText.format(0) == "0.00" && GBDaysText.format(2.006) == "2.01"
                        && GBDaysText.format(0.1) == "0.10")
            }
        }

        @Test("the snapshot queries are served by the primary key and the day index", .enabled(if: !TestDatabases.onPostgreSQL, "reads SQLite's query plans"))
        func plans() throws {
            try withDatabase { db in
                let series = try UsageSnapshotsTests.plan(db, UsageSnapshots.SQL.series, [1, 0, 10])
                #expect(series.contains("SEARCH usage_snapshots USING PRIMARY KEY (user_id=? AND day>? AND day<?)"), "\(series)")
                let byteDays = try UsageSnapshotsTests.plan(db, UsageSnapshots.SQL.userByteDays, [1, 0, 10])
                #expect(byteDays.contains("USING PRIMARY KEY (user_id=? AND day>? AND day<?)"), "\(byteDays)")
                let totals = try UsageSnapshotsTests.plan(db, UsageSnapshots.SQL.dailyTotals, [0, 10])
                #expect(totals.contains("SEARCH usage_daily_totals USING INTEGER PRIMARY KEY (rowid>? AND rowid<?)"), "\(totals)")
                let dayTotal = try UsageSnapshotsTests.plan(db, UsageSnapshots.SQL.dayTotal, [0])
                #expect(dayTotal.contains("USING COVERING INDEX usage_snapshots_day (day=?)") || dayTotal.contains("USING INDEX usage_snapshots_day (day=?)"), "\(dayTotal)")
                let take = try UsageSnapshotsTests.plan(db, UsageSnapshots.SQL.takeDay, [0, 0, 10])
                #expect(take.contains("SEARCH users USING INTEGER PRIMARY KEY (rowid>? AND rowid<?)"), "\(take)")
            }
        }
    }

    @Suite("The monthly billing report")
    struct Report {
        let december = BillingMonth(year: 2026, month: 12)
        var january: BillingMonth { december.next }

        func seed(_ db: Database) throws {
            for id in Int64(1)...3 { try addUser(db, id: id) }
            try db.execute("""
                INSERT INTO tariff_plans (id, name, monthly_price_minor, currency, storage_bytes, max_file_bytes, max_portals, created_at, updated_at)
                VALUES (1, 'Team', 1000, 'USD', 100000000000, 1000000000, 10, 0, 0)
                """)
            func ledger(_ user: Int64, _ minor: Int64, _ currency: String, _ reference: String?, _ at: Int64) throws {
                try db.execute("INSERT INTO balance_ledger (user_id, amount_minor, currency, reason, reference, created_at) VALUES ($1, $2, $3, 'r', $4, $5)",
                               [user, minor, currency, reference, at])
            }
            let day: Int64 = 86400
            try ledger(1, 50_000, "USD", "admin", december.start - 40 * day)            // a credit: never revenue
            try ledger(2, 10_000, "KWD", "admin", december.start - 40 * day)            // (a balance is never below zero)
            try ledger(2, 1_000, "USD", "admin", december.start - 40 * day)
            try ledger(1, -999, "USD", "purchase:9", BillingMonth(year: 2025, month: 11).start)  // 14 months ago: outside the report
            try ledger(1, -1000, "USD", "renewal:1", december.start)                    // the month's first second
            try ledger(1, -250, "USD", "purchase:1", december.end - 1)                  // its last second
            try ledger(1, -300, "USD", "admin", december.start + 3 * day)               // an admin debit: not revenue
            try ledger(1, 100, "USD", "purchase:1", december.start + 4 * day)           // a credit, whatever its reference: not revenue
            try ledger(2, -1500, "KWD", "purchase:2", december.start + 9 * day)
            try ledger(2, -777, "USD", nil, december.start + 9 * day)                    // no reference: not revenue
            try ledger(1, -1000, "USD", "renewal:2", january.start)                     // January, not December
            try ledger(2, -2000, "KWD", "renewal:3", january.start + 2 * day)
            try ledger(3, 5_000, "KWD", "admin", january.start + 2 * day)

            func renewal(_ user: Int64, _ periodStart: Int64, _ status: String, createdAt: Int64? = nil) throws {
                try db.execute("""
                    INSERT INTO plan_renewals (user_id, plan_id, period_start, period_end, amount_minor, currency, status, created_at, updated_at)
                    VALUES ($1, 1, $2, $3, 1000, 'USD', $4, $5, $5)
                    """, [user, periodStart, periodStart + 30 * day, status, createdAt ?? periodStart])
            }
            try renewal(1, december.start + 4 * day, "failed")
            try renewal(2, december.start + 19 * day, "lapsed")
            try renewal(3, december.start + 6 * day, "paid")
            try renewal(1, january.start + 4 * day, "failed")
            try renewal(2, december.start - 1, "failed", createdAt: december.start + day)  // November's period, written in December

            for (user, day, bytes) in [(1, december.endDay - 1, 2_000_000_000), (1, january.firstDay, 1_000_000_000), (2, january.firstDay, 500_000_000)] as [(Int64, Int64, Int64)] {
                try db.execute("INSERT INTO usage_snapshots (user_id, day, bytes, quota_bytes) VALUES ($1, $2, $3, 0)", [user, day, bytes])
                try db.execute(UsageSnapshots.SQL.dayTotal, [day])  // as takeDaily sums its day
            }
        }

        func money(_ minor: Int64, _ currency: Currency) -> Money { Money(minorUnits: minor, currency: currency) }

        @Test("12 months, most recent first: plan and purchase revenue per currency from renewal: and purchase: debits by UTC month; admin rows, credits and rows outside are not revenue")
        func months() throws {
            try withDatabase { db in
                try seed(db)
                let report = BillingReport(db: db, clock: ManualClock(UsageSnapshotsTests.now), currency: UsageSnapshotsTests.usd)
                let months = try report.recentMonths()
                #expect(months.map(\.month.text) == ["2027-01", "2026-12", "2026-11", "2026-10", "2026-09", "2026-08", "2026-07", "2026-06",
                                                     "2026-05", "2026-04", "2026-03", "2026-02"])
                let usd = UsageSnapshotsTests.usd, kwd = UsageSnapshotsTests.kwd
                #expect(months[1].revenue == [MonthlyRevenue(plans: money(0, kwd), purchases: money(1500, kwd)),
                                              MonthlyRevenue(plans: money(1000, usd), purchases: money(250, usd))])
                #expect(months[1].revenue.map(\.total) == [money(1500, kwd), money(1250, usd)])
                #expect(months[1].revenue.first?.total.description == "KWD\u{00A0}1.500")
                #expect(months[0].revenue == [MonthlyRevenue(plans: money(2000, kwd), purchases: money(0, kwd)),
                                              MonthlyRevenue(plans: money(1000, usd), purchases: money(0, usd))])
                #expect(months[2...].allSatisfy { $0.revenue == [MonthlyRevenue(plans: money(0, usd), purchases: money(0, usd))] },
                        "a month without revenue shows the site's currency at zero")
                #expect(months.map(\.failedRenewals) == [1, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0], "by the month the period starts; paid ones are not failed")
                #expect(months[0].gbDays == 1.5 && months[1].gbDays == 2 && months[2].gbDays == 0)
                // One month asked for.
                let one = try report.months([december])
                #expect(one.count == 1 && one[0].month == december && one[0].failedRenewals == 2 && one[0].revenue.count == 2)
                #expect(try report.months([]).isEmpty)
            }
        }

        @Test("users in grace now, soonest end first, with their balance in the plan's currency; an ended grace is not listed")
        func grace() throws {
            try withDatabase { db in
                try seed(db)
                let now = UsageSnapshotsTests.now
                try db.execute("UPDATE users SET plan_id = 1, plan_renews_at = $1, plan_grace_until = $2 WHERE id = 1", [now + 3600, now + 5 * 86400])
                try db.execute("UPDATE users SET plan_id = 1, plan_renews_at = $1, plan_grace_until = $2 WHERE id = 2", [now + 3600, now + 86400])
                try db.execute("UPDATE users SET plan_id = 1, plan_renews_at = $1, plan_grace_until = $2 WHERE id = 3", [now, now])
                let report = BillingReport(db: db, clock: ManualClock(now), currency: UsageSnapshotsTests.usd)
                let grace = try report.usersInGrace()
                #expect(grace.map(\.userID) == [2, 1])
                #expect(grace.last == BillingReport.UserInGrace(userID: 1, email: "u1@example.com", name: "User 1", planName: "Team",
                                                                graceUntil: now + 5 * 86400, balance: money(50_000 - 999 - 1000 - 250 - 300 + 100 - 1000, UsageSnapshotsTests.usd)))
                #expect(grace.first?.balance == money(1000 - 777, UsageSnapshotsTests.usd), "user 2's KWD rows are not in a USD balance")
            }
        }

        @Test("the report's queries read maintained totals and partial indexes: a row a day, a row per unpaid renewal or user in grace", .enabled(if: !TestDatabases.onPostgreSQL, "reads SQLite's query plans"))
        func plans() throws {
            try withDatabase { db in
                let failed = try UsageSnapshotsTests.plan(db, BillingReport.SQL.failedRenewals, [0, 10])
                #expect(failed.contains("USING INDEX plan_renewals_unpaid (period_start>? AND period_start<?)"), "\(failed)")
                let grace = try UsageSnapshotsTests.plan(db, BillingReport.SQL.usersInGrace, [0, "USD", 10])
                #expect(grace.contains("USING INDEX users_grace") && grace.contains("SEARCH b USING PRIMARY KEY (user_id=? AND currency=?)"), "\(grace)")
                let revenue = try UsageSnapshotsTests.plan(db, BillingReport.SQL.revenue, [0, 10])
                #expect(revenue.contains("SEARCH revenue_daily USING PRIMARY KEY (day>? AND day<?)"), "\(revenue)")
            }
        }

        @Test("billing months: boundaries, neighbours across years, the last N")
        func billingMonths() {
            let december = BillingMonth(year: 2026, month: 12)
            #expect(december.start == 1_796_083_200 && december.end == BillingMonth(year: 2027, month: 1).start)
            #expect(december.endDay - december.firstDay == 31 && BillingMonth(year: 2028, month: 2).endDay - BillingMonth(year: 2028, month: 2).firstDay == 29)
            #expect(BillingMonth(containing: december.end - 1) == december && BillingMonth(containing: december.end) == december.next)
            #expect(BillingMonth(year: 2027, month: 1).previous == december && december.text == "2026-12" && BillingMonth(year: 2027, month: 3).text == "2027-03")
            #expect(BillingMonth.last(3, endingWith: BillingMonth(year: 2027, month: 2)).map(\.text) == ["2027-02", "2027-01", "2026-12"])
        }
    }

    @Suite("The usage chart")
    struct Chart {
        let lastDay: Int64 = UsageSnapshotsTests.today

        @Test("no snapshot (or none in the window): a sentence, no SVG")
        func empty() {
            #expect(UsageChart.html([], days: 90, lastDay: lastDay, title: "t") == #"<p class="empty">No usage recorded yet.</p>"#)
            let old = [UsageSnapshot(day: lastDay - 90, bytes: 5, quotaBytes: 10)]
            #expect(!UsageChart.html(old, days: 90, lastDay: lastDay, title: "t").contains("<svg"))
        }

        @Test("every text is escaped: the title (a user's name), and nothing a caller gives reaches the markup raw")
        func escapes() {
            let svg = UsageChart.html([UsageSnapshot(day: lastDay, bytes: 1, quotaBytes: 2)], days: 90, lastDay: lastDay,
                                      title: #"Storage used by <script>alert("x")</script> & 'co'"#)
            #expect(svg.contains(#"<title id="usage-chart-title">Storage used by &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;co&#39;</title>"#))
            #expect(!svg.contains("<script"))
            #expect(svg.hasPrefix("<svg ") && svg.hasSuffix("</svg>") && svg.contains(#"role="img""#))
            #expect(svg.contains(#"aria-labelledby="usage-chart-title usage-chart-desc""#) && svg.contains("<desc id=\"usage-chart-desc\">"))
        }

        @Test("scaled to the largest of usage and quota, rounded up to 1, 2 or 5 × 10ⁿ: the peak's point sits at its height, dates and sizes on the axes")
        func scales() throws {
            let points = [UsageSnapshot(day: lastDay - 89, bytes: 0, quotaBytes: 4_000_000_000),
                          UsageSnapshot(day: lastDay - 1, bytes: 2_500_000_000, quotaBytes: 4_000_000_000),
                          UsageSnapshot(day: lastDay, bytes: 5_000_000_000, quotaBytes: 4_000_000_000)]
            let svg = UsageChart.html(points, days: 90, lastDay: lastDay, title: "t")
            // Axis 0…5 GB; the plot is 640-64-12 = 564 wide from x 64, 220-26-26 = 168 high from y 26 (bottom 194).
            let stored = try #require(svg.firstRange(of: #"class="usage-chart-stored" points=""#).map { svg[$0.upperBound...].prefix { $0 != "\"" } })
            #expect(stored == "64,194 621.7,110 628,26", "first day at the left on the baseline, half way up, the peak at the top")
            let quota = try #require(svg.firstRange(of: #"class="usage-chart-quota" points=""#).map { svg[$0.upperBound...].prefix { $0 != "\"" } })
            #expect(quota == "64,59.6 621.7,59.6 628,59.6")
            #expect(svg.contains(#"points="64,194 64,194 621.7,110 628,26 628,194""#), "the area closes on the baseline")
            for label in [">0 B<", ">2.5 GB<", ">5 GB<", ">2026-10-18<", ">2026-12-01<", ">2027-01-15<"] {
                #expect(svg.contains(label), "\(label)")
            }
            #expect(svg.contains("5 GB stored of a 4 GB quota on 2027-01-15; at most 5 GB in the period."))
        }

        @Test("axis maximum", arguments: [(Int64(0), Int64(1_000_000)), (1, 1_000_000), (1_000_000, 1_000_000), (1_000_001, 2_000_000),
                                          (2_000_001, 5_000_000), (5_000_001, 10_000_000), (4_000_000_000, 5_000_000_000),
                                          (5_000_000_000_000, 5_000_000_000_000), (Int64.max, Int64.max)])
        func axisMaximum(_ bytes: Int64, _ expected: Int64) {
            #expect(UsageChart.axisMaximum(bytes) == expected)
        }

        @Test("one snapshot still draws a point")
        func single() {
            let svg = UsageChart.html([UsageSnapshot(day: lastDay, bytes: 500_000, quotaBytes: 0)], days: 90, lastDay: lastDay, title: "t")
            #expect(svg.contains(#"<circle class="usage-chart-latest" cx="628" cy="110""#))
        }
    }
}
