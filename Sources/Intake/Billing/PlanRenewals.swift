import Database

/// A plan's billing periods: monthly from the day it was given, on the same day of the month
/// and the same time of day, clamped to the last day of a shorter month (given on 31 January:
/// 29 February in a leap year, then 31 March). Periods never drift: each is counted from the
/// anchor, not from the period before.
public struct BillingPeriod: Sendable, Equatable {
    public let index: Int
    public let start: Int64
    public let end: Int64

    /// The anchor's `months`-th monthly anniversary.
    public static func anniversary(of anchor: Int64, months: Int) -> Int64 {
        let seconds = ((anchor % 86400) + 86400) % 86400
        return CivilDate(epoch: anchor).adding(months: months).epoch + seconds
    }

    /// The period that contains `time` (the first one for a time before the anchor).
    public static func containing(_ time: Int64, anchor: Int64) -> BillingPeriod {
        let from = CivilDate(epoch: anchor), to = CivilDate(epoch: time)
        var index = max(0, (to.year - from.year) * 12 + (to.month - from.month))
        while index > 0 && anniversary(of: anchor, months: index) > time { index -= 1 }
        while anniversary(of: anchor, months: index + 1) <= time { index += 1 }
        return BillingPeriod(index: index, start: anniversary(of: anchor, months: index), end: anniversary(of: anchor, months: index + 1))
    }
}

/// Monthly plan charges from the balance (the jobs runner calls `renewDue`). A user on a plan
/// with a price is due when `users.plan_renews_at` has come: the period containing now is
/// charged once, by a row of `plan_renewals` unique per user and period and a ledger entry
/// with an idempotency key of its own, written in one transaction. A balance too short starts
/// a grace period (the pricing's grace days, else `defaultGraceDays`): the user is mailed, the
/// charge is retried every hour, and when the grace ends unpaid the user falls back to the free
/// storage, mailed and audited. Missed periods (the jobs did not run for a month) are not
/// charged after the fact: only the current one is.
public struct PlanRenewals {
    let db: Database
    let clock: EpochClock
    let pricing: StoragePricingStore

    public init(db: Database, clock: EpochClock, pricing: StoragePricingStore) {
        self.db = db
        self.clock = clock
        self.pricing = pricing
    }

    /// Grace when the pricing names none (its grace days belong to `delete_oldest`).
    public static let defaultGraceDays = 7
    /// How often a renewal in grace is retried.
    public static let retrySeconds: Int64 = 3600

    public struct Report: Sendable, Equatable {
        public var charged = 0
        public var failed = 0
        public var lapsed = 0
        public init() {}
    }

    static let system = AuditLog.Actor(userID: nil, remoteAddress: "")

    /// Charges, retries and lapses what is due, at most `limit` users a pass.
    @discardableResult
    public func renewDue(limit: Int = 500) throws -> Report {
        let now = clock.now()
        let graceDays = (try pricing.current().overQuota.graceDays) ?? Self.defaultGraceDays
        var report = Report()
        let due = try db.query("SELECT id FROM users WHERE plan_renews_at IS NOT NULL AND plan_renews_at <= $1 ORDER BY plan_renews_at LIMIT $2",
                               [now, limit])
        for row in due {
            try db.write { try renew(userID: try row.get("id"), now: now, graceDays: graceDays, report: &report) }
        }
        return report
    }

    /// One user's step, in the caller's write transaction; everything is read again inside it,
    /// so a user another runner handled meanwhile is left alone.
    private func renew(userID: Int64, now: Int64, graceDays: Int, report: inout Report) throws {
        guard let user = try db.queryOne("""
            SELECT u.email, u.plan_id, u.plan_anchor_at, u.plan_renews_at, p.name, p.monthly_price_minor, p.currency
            FROM users u JOIN tariff_plans p ON p.id = u.plan_id WHERE u.id = $1
            """, [userID]) else {
            try db.execute("UPDATE users SET plan_renews_at = NULL, plan_grace_until = NULL WHERE id = $1 AND plan_id IS NULL", [userID])
            return
        }
        guard let renewsAt: Int64 = try user.get("plan_renews_at"), renewsAt <= now else { return }
        let planID: Int64 = try user.get("plan_id")
        let code: String = try user.get("currency")
        guard let currency = Currency(code: code) else { throw DatabaseError(.decoding, "unknown currency \(code)") }
        let price = Money(minorUnits: try user.get("monthly_price_minor"), currency: currency)
        let planName: String = try user.get("name"), email: String = try user.get("email")
        guard price.minorUnits > 0 else {
            try db.execute("UPDATE users SET plan_renews_at = NULL, plan_grace_until = NULL WHERE id = $1", [userID])
            return
        }
        let audit = AuditLog(db: db, clock: clock), mail = MailOutbox(db: db, clock: clock), ledger = BalanceLedger(db: db, clock: clock)
        let balance = try ledger.balance(userID: userID, currency: currency)

        // A renewal already in grace: paid now if the balance allows, lapsed once the grace is over.
        if let open = try db.queryOne("SELECT id, period_start, period_end, grace_until FROM plan_renewals WHERE user_id = $1 AND status = 'failed'",
                                      [userID]) {
            let id: Int64 = try open.get("id"), graceUntil: Int64 = try open.get("grace_until"), periodEnd: Int64 = try open.get("period_end")
            if balance.minorUnits >= price.minorUnits {
                try charge(userID: userID, renewalID: id, periodStart: try open.get("period_start"), price: price, planName: planName)
                try db.execute("UPDATE plan_renewals SET status = 'paid', amount_minor = $1, updated_at = $2 WHERE id = $3", [price.minorUnits, now, id])
                try db.execute("UPDATE users SET plan_renews_at = $1, plan_grace_until = NULL WHERE id = $2", [periodEnd, userID])
                try audit.record(Self.system, action: "plan.renewal_paid", entityType: "user", entityID: String(userID),
                                 after: [("plan_id", String(planID)), ("amount", price.decimalText), ("renewal_id", String(id))])
                try mail.enqueue(to: email, subject: "Your \(planName) plan is renewed",
                                 body: "We charged \(price) from your balance; your \(planName) plan continues.")
                report.charged += 1
            } else if now >= graceUntil {
                try db.execute("UPDATE plan_renewals SET status = 'lapsed', updated_at = $1 WHERE id = $2", [now, id])
                try db.execute("""
                    UPDATE users SET plan_id = NULL, plan_anchor_at = NULL, plan_renews_at = NULL, plan_grace_until = NULL, updated_at = $1 WHERE id = $2
                    """, [now, userID])
                try audit.record(Self.system, action: "plan.lapsed", entityType: "user", entityID: String(userID),
                                 before: [("plan_id", String(planID))], after: [("plan_id", nil), ("renewal_id", String(id))])
                try mail.enqueue(to: email, subject: "Your \(planName) plan has ended",
                                 body: "Your balance (\(balance)) did not cover the \(price) renewal of your \(planName) plan by the end of its grace period, so your account is back on the free storage. If you now store more than it allows, the over-quota rules apply.")
                report.lapsed += 1
            } else {
                try db.execute("UPDATE users SET plan_renews_at = $1 WHERE id = $2", [min(now + Self.retrySeconds, graceUntil), userID])
            }
            return
        }

        let anchor: Int64 = (try user.get("plan_anchor_at")) ?? renewsAt
        let period = BillingPeriod.containing(now, anchor: anchor)
        if let done = try db.queryOne("SELECT status FROM plan_renewals WHERE user_id = $1 AND period_start = $2", [userID, period.start]) {
            // Charged (or lapsed) already, by a run that did not move the due time on: move it now.
            let paid = try done.get("status", as: String.self) == "paid"
            try db.execute("UPDATE users SET plan_renews_at = $1 WHERE id = $2", [paid ? period.end : nil, userID])
            return
        }
        let paid = balance.minorUnits >= price.minorUnits
        let graceUntil = now + Int64(graceDays) * 86400
        let id = try db.scalar("""
            INSERT INTO plan_renewals (user_id, plan_id, period_start, period_end, amount_minor, currency, status, grace_until, created_at, updated_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING id
            """, [userID, planID, period.start, period.end, price.minorUnits, currency.code, paid ? "paid" : "failed", paid ? nil : graceUntil, now],
            as: Int64.self)!
        if paid {
            try charge(userID: userID, renewalID: id, periodStart: period.start, price: price, planName: planName)
            try db.execute("UPDATE users SET plan_renews_at = $1, plan_grace_until = NULL WHERE id = $2", [period.end, userID])
            try audit.record(Self.system, action: "plan.renewal_charged", entityType: "user", entityID: String(userID),
                             after: [("plan_id", String(planID)), ("amount", price.decimalText), ("period_start", String(period.start)),
                                     ("renewal_id", String(id))])
            report.charged += 1
        } else {
            try db.execute("UPDATE users SET plan_renews_at = $1, plan_grace_until = $2 WHERE id = $3",
                           [min(now + Self.retrySeconds, graceUntil), graceUntil, userID])
            try audit.record(Self.system, action: "plan.renewal_failed", entityType: "user", entityID: String(userID),
                             after: [("plan_id", String(planID)), ("amount", price.decimalText), ("balance", balance.decimalText),
                                     ("grace_until", String(graceUntil)), ("renewal_id", String(id))])
            let shortfall = Money(minorUnits: price.minorUnits - balance.minorUnits, currency: currency)
            try mail.enqueue(to: email, subject: "We could not renew your \(planName) plan",
                             body: """
                                Your \(planName) plan costs \(price) a month and your balance is \(balance): \(shortfall) short. \
                                Your plan stays for \(graceDays) day\(graceDays == 1 ? "" : "s"); if the balance covers the renewal by then \
                                we charge it, otherwise your account falls back to the free storage.
                                """)
            report.failed += 1
        }
    }

    /// The period's debit. Its idempotency key (user and period) is unique in the ledger, so the
    /// database itself refuses a second charge for one period, whoever tries.
    private func charge(userID: Int64, renewalID: Int64, periodStart: Int64, price: Money, planName: String) throws {
        try BalanceLedger(db: db, clock: clock).append(
            userID: userID, amount: Money(minorUnits: -price.minorUnits, currency: price.currency),
            reason: "Plan renewal: \(planName), \(CivilDate(epoch: periodStart).text)", reference: "renewal:\(renewalID)",
            idempotencyKey: "renewal:\(userID):\(periodStart)")
    }

    /// What the user's plan is doing: when it renews, or until when it is in grace.
    public struct State: Sendable, Equatable {
        public let renewsAt: Int64?
        public let graceUntil: Int64?
    }

    public func state(userID: Int64) throws -> State? {
        try db.queryOne("SELECT plan_renews_at, plan_grace_until FROM users WHERE id = $1", [userID]).map {
            State(renewsAt: try $0.get("plan_renews_at"), graceUntil: try $0.get("plan_grace_until"))
        }
    }
}
