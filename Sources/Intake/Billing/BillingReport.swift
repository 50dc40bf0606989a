import Database

/// What one currency earned in one month: plan renewals and storage purchases.
public struct MonthlyRevenue: Sendable, Equatable {
    public let currency: Currency
    public let plans: Money
    public let purchases: Money

    public init(plans: Money, purchases: Money) {
        precondition(plans.currency == purchases.currency)
        currency = plans.currency
        self.plans = plans
        self.purchases = purchases
    }

    public var total: Money { Money(minorUnits: plans.minorUnits + purchases.minorUnits, currency: currency) }
}

/// The operator's billing report (`/admin/billing`): per UTC month, what plans and purchases
/// earned, how many renewals failed, how many GB-days were stored; and who is in a renewal's
/// grace period now.
///
/// Revenue is read from the ledger, the one record of money: minus the sum of the debits whose
/// `reference` is `renewal:<plan_renewals.id>` (plans) or `purchase:<storage_purchases.id>`
/// (purchases), by the UTC month of the row; admin adjustments (`admin`) are not revenue. A
/// currency is never added to another: each has its own figures.
public struct BillingReport {
    let db: Database
    let clock: EpochClock
    /// The currency a month without revenue is shown in (the site's).
    let currency: Currency

    public init(db: Database, clock: EpochClock, currency: Currency) {
        self.db = db
        self.clock = clock
        self.currency = currency
    }

    /// One month of the report.
    public struct Month: Sendable, Equatable {
        public let month: BillingMonth
        /// One entry per currency that earned anything, by code; the site's currency (at zero)
        /// when none did.
        public let revenue: [MonthlyRevenue]
        /// Renewals whose period starts in the month and that were not paid (`failed`: in grace
        /// now, or `lapsed`: the user fell back to free storage). One paid late counts as paid.
        public let failedRenewals: Int
        /// Every user's GB-days in the month, from the daily snapshots.
        public let gbDays: Double
    }

    /// A user whose plan renewal failed and who keeps the plan until `graceUntil`.
    public struct UserInGrace: Sendable, Equatable {
        public let userID: Int64
        public let email: String
        public let name: String
        /// nil if the plan was removed meanwhile.
        public let planName: String?
        public let graceUntil: Int64
        /// In the plan's currency, which is what the renewal is owed in.
        public let balance: Money
    }

    /// The statements, named so a test can ask the planner how it runs them.
    enum SQL {
        /// Earnings by day, currency and kind, from the maintained `revenue_daily` (a row a day;
        /// the caller folds days into months).
        static let revenue = """
            SELECT day, currency, CASE kind WHEN 'plan' THEN 1 ELSE 0 END AS plan, earned_minor AS earned
            FROM revenue_daily WHERE day >= $1 / 86400 AND day < $2 / 86400
            """
        /// Unpaid renewals by the day their period starts, by the partial index `plan_renewals_unpaid`.
        static let failedRenewals = """
            SELECT period_start / 86400 AS day, count(*) AS n FROM plan_renewals
            WHERE status IN ('failed', 'lapsed') AND period_start >= $1 AND period_start < $2
            GROUP BY period_start / 86400
            """
        /// By the partial index `users_grace`, soonest end first; each balance from `balances`.
        static let usersInGrace = """
            SELECT u.id, u.email, u.name, u.plan_grace_until, p.name AS plan_name, coalesce(p.currency, $2) AS currency,
                   coalesce((SELECT b.balance_minor FROM balances b WHERE b.user_id = u.id AND b.currency = coalesce(p.currency, $2)), 0) AS balance
            FROM users u LEFT JOIN tariff_plans p ON p.id = u.plan_id
            WHERE u.plan_grace_until > $1
            ORDER BY u.plan_grace_until, u.id LIMIT $3
            """
    }

    /// The last `count` months up to the current one, most recent first.
    public func recentMonths(_ count: Int = 12) throws -> [Month] {
        try months(BillingMonth.last(count, endingWith: BillingMonth(containing: clock.now())))
    }

    /// The figures of `months`, in the order given, from one consistent read.
    public func months(_ months: [BillingMonth]) throws -> [Month] {
        guard let first = months.min(), let last = months.max() else { return [] }
        return try db.read {
            var plans: [BillingMonth: [String: Int64]] = [:]
            var purchases: [BillingMonth: [String: Int64]] = [:]
            for row in try db.query(SQL.revenue, [first.start, last.end]) {
                let month = BillingMonth(containingDay: try row.get("day"))
                let code: String = try row.get("currency")
                let earned: Int64 = try row.get("earned")
                if try row.get("plan", as: Int.self) == 1 {
                    plans[month, default: [:]][code, default: 0] += earned
                } else {
                    purchases[month, default: [:]][code, default: 0] += earned
                }
            }
            var failed: [BillingMonth: Int] = [:]
            for row in try db.query(SQL.failedRenewals, [first.start, last.end]) {
                failed[BillingMonth(containingDay: try row.get("day")), default: 0] += try row.get("n", as: Int.self)
            }
            let gbDays = try UsageSnapshots(db: db, clock: clock).gbDaysByMonth(months)

            return try months.map { month in
                let codes = Set((plans[month] ?? [:]).keys).union((purchases[month] ?? [:]).keys)
                var revenue = try codes.sorted().map { code -> MonthlyRevenue in
                    guard let currency = Currency(code: code) else { throw DatabaseError(.decoding, "unknown currency \(code) in the ledger") }
                    return MonthlyRevenue(plans: Money(minorUnits: plans[month]?[code] ?? 0, currency: currency),
                                          purchases: Money(minorUnits: purchases[month]?[code] ?? 0, currency: currency))
                }
                if revenue.isEmpty {
                    revenue = [MonthlyRevenue(plans: Money(minorUnits: 0, currency: currency), purchases: Money(minorUnits: 0, currency: currency))]
                }
                return Month(month: month, revenue: revenue, failedRenewals: failed[month] ?? 0, gbDays: gbDays[month] ?? 0)
            }
        }
    }

    /// Users in a renewal's grace period now, the soonest to end first.
    public func usersInGrace(limit: Int = 500) throws -> [UserInGrace] {
        try db.query(SQL.usersInGrace, [clock.now(), currency.code, limit]).map { row in
                let code: String = try row.get("currency")
                guard let currency = Currency(code: code) else { throw DatabaseError(.decoding, "unknown currency \(code)") }
                return UserInGrace(userID: try row.get("id"), email: try row.get("email"), name: try row.get("name"),
                                   planName: try row.get("plan_name"), graceUntil: try row.get("plan_grace_until"),
                                   balance: Money(minorUnits: try row.get("balance"), currency: currency))
            }
    }
}
