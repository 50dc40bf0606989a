import Database

/// The effective quota rule, the one definition used everywhere: an admin override if set;
/// otherwise the plan's storage plus active purchases; otherwise the free storage plus active
/// purchases.
public enum QuotaRule {
    public static func effectiveQuota(overrideBytes: Int64?, planStorageBytes: Int64?, freeStorageBytes: Int64, purchasedExtraBytes: Int64) -> Int64 {
        if let overrideBytes { return overrideBytes }
        return (planStorageBytes ?? freeStorageBytes) + purchasedExtraBytes
    }

    /// The same rule as SQL over `users u`, given SQL for the free storage and the plan's storage;
    /// the database keeps `users.quota_bytes` equal to it (see `QuotaMaintenance`). A unit test
    /// checks that both renderings agree.
    public static func sql(free: String, planStorage: String = "p.storage_bytes", user: String = "u") -> String {
        "COALESCE(\(user).quota_override_bytes, COALESCE(\(planStorage), \(free)) + \(user).purchased_extra_bytes)"
    }
}

/// Keeps `users.quota_bytes` equal to the rule at all times, by triggers built from the rule's
/// one SQL rendering: on a new user, on a change of a user's plan, override or purchases, on a
/// change of a plan's storage, and on a new pricing version (the free storage). Lists then
/// filter and sort on an indexed column instead of computing the rule for 100,000 rows.
enum QuotaMaintenance {
    /// The free storage in force, as SQL: the newest pricing version's, else the default.
    static var freeStorageSQL: String {
        "COALESCE((SELECT free_storage_bytes FROM storage_pricing_versions ORDER BY id DESC LIMIT 1), \(StoragePricing.defaultFreeStorageBytes))"
    }

    /// The rule for a row of `users` being updated (SQLite's UPDATE takes no alias, and triggers
    /// cannot join, so the plan is a subquery).
    static var ruleForUser: String {
        QuotaRule.sql(free: freeStorageSQL, planStorage: "(SELECT storage_bytes FROM tariff_plans WHERE id = users.plan_id)", user: "users")
    }

    static var migration: String {
        """
        ALTER TABLE users ADD COLUMN quota_bytes INTEGER NOT NULL DEFAULT 0;
        UPDATE users SET quota_bytes = \(ruleForUser);
        CREATE INDEX users_quota ON users (quota_bytes);
        CREATE INDEX users_over ON users (storage_used_bytes - quota_bytes);
        CREATE INDEX users_usage ON users (\(usageSQL(.sqlite)));

        CREATE TRIGGER users_quota_on_insert AFTER INSERT ON users BEGIN
            UPDATE users SET quota_bytes = \(ruleForUser) WHERE id = NEW.id;
        END;
        CREATE TRIGGER users_quota_on_change AFTER UPDATE OF plan_id, quota_override_bytes, purchased_extra_bytes ON users BEGIN
            UPDATE users SET quota_bytes = \(ruleForUser) WHERE id = NEW.id;
        END;
        CREATE TRIGGER users_quota_on_plan_change AFTER UPDATE OF storage_bytes ON tariff_plans BEGIN
            UPDATE users SET quota_bytes = \(ruleForUser) WHERE plan_id = NEW.id;
        END;
        CREATE TRIGGER users_quota_on_pricing AFTER INSERT ON storage_pricing_versions BEGIN
            UPDATE users SET quota_bytes = \(ruleForUser) WHERE plan_id IS NULL AND quota_override_bytes IS NULL;
        END;
        """
    }

    /// The usage ratio exactly as the `users_usage` index defines it (the planner uses an
    /// expression index only for the identical expression).
    static func usageSQL(_ dialect: SQLDialect) -> String {
        switch dialect {
        case .sqlite: return "CAST(storage_used_bytes AS REAL) / MAX(quota_bytes, 1)"
        case .postgresql: return "CAST(storage_used_bytes AS DOUBLE PRECISION) / GREATEST(quota_bytes, 1)"
        }
    }
}

/// A user's quota in its parts.
public struct UserQuota: Sendable {
    public let userID: Int64
    public let email: String
    public let name: String
    public let planName: String?
    public let planStorageBytes: Int64?
    public let purchasedExtraBytes: Int64
    public let overrideBytes: Int64?
    public let effectiveBytes: Int64
    public let usedBytes: Int64
    /// When the over-quota job first found the user over (nil: within quota, or not seen yet).
    public var overQuotaSince: Int64? = nil
    /// The plan's monthly price (nil without a plan), the start of the period due next, and the
    /// end of the grace while a renewal is unpaid (see `PlanRenewals`).
    public var planPrice: Money? = nil
    public var planRenewsAt: Int64? = nil
    public var planGraceUntil: Int64? = nil

    /// Used ÷ quota; infinite for a zero quota with anything stored.
    public var usage: Double {
        effectiveBytes > 0 ? Double(usedBytes) / Double(effectiveBytes) : (usedBytes > 0 ? .infinity : 0)
    }
    public var isOver: Bool { usedBytes > effectiveBytes }
    /// At 90 % or more, not over.
    public var isNear: Bool { !isOver && usedBytes * 10 >= effectiveBytes * 9 && effectiveBytes > 0 }
}

/// Quotas by user: the admin list and the changes to one user's quota parts.
public struct QuotaStore {
    let db: Database
    let clock: EpochClock
    /// How many matches a filtered list counts at most: past it the total reads "more than"
    /// this, so a filter most users match costs a page, not a count of them all.
    public var countLimit = 10_000

    public init(db: Database, clock: EpochClock) {
        self.db = db
        self.clock = clock
    }

    public enum Filter: String, Sendable, CaseIterable { case all, over, near }
    public enum Sort: String, Sendable, CaseIterable { case email, used, usage, quota }

    static var columns: String {
        """
        u.id, u.email, u.email_normalized, u.name, p.name AS plan_name, p.storage_bytes AS plan_storage, u.purchased_extra_bytes,
        u.quota_override_bytes, u.storage_used_bytes, u.quota_bytes AS effective, u.over_quota_since, u.plan_renews_at,
        u.plan_grace_until, p.monthly_price_minor AS plan_price, p.currency AS plan_currency
        """
    }

    /// One page of users with their quotas: search by e-mail or name prefix, filter, sort, and
    /// the next page's cursor (keyset: a late page costs what the first does). Every filter and
    /// order is served by an index on the maintained quota (see `QuotaMaintenance`).
    /// The cursor's value is the sort's: the e-mail, the used bytes, the quota or the usage ratio.
    /// A filtered total above `countLimit` is `countLimit + 1` (more than the limit).
    public func page(search: String, filter: Filter, sort: Sort, after cursor: PageCursor?, pageSize: Int) throws
        -> (rows: [UserQuota], total: Int, next: PageCursor?) {
        var conditions: [String] = []
        var args: [any DatabaseValueConvertible] = []
        let query = search.trimmingSpaces()
        if !query.isEmpty {
            conditions.append(PrefixSearch.condition(["u.email_normalized", "u.name"], startWith: query, db.dialect, &args))
        }
        switch filter {
        case .all: break
        case .over: conditions.append("storage_used_bytes - quota_bytes > 0")
        case .near:
            // The index narrows to 89 % and up; the integer test decides exactly.
            conditions.append("\(QuotaMaintenance.usageSQL(db.dialect)) >= 0.89 AND storage_used_bytes - quota_bytes <= 0 AND storage_used_bytes * 10 >= quota_bytes * 9 AND quota_bytes > 0")
        }
        let filtered = conditions
        let whereClause = filtered.isEmpty ? "" : "WHERE " + filtered.joined(separator: " AND ")
        let total: Int
        if filtered.isEmpty {
            total = try db.scalar("SELECT n FROM site_counts WHERE name = 'users'", as: Int.self) ?? 0
        } else if filter == .over && query.isEmpty {
            // Kept by triggers (migration 38): no count of the matches.
            total = min(countLimit + 1, try db.scalar("SELECT n FROM user_counts WHERE name = 'over_quota'", as: Int.self) ?? 0)
        } else {
            total = try db.scalar("SELECT count(*) FROM (SELECT 1 FROM users u \(whereClause) LIMIT \(countLimit + 1)) AS counted", args, as: Int.self) ?? 0
        }
        if let cursor {
            // (For the ratio, the row value is spelled out: SQLite reads an expression index
            // for `expr < v` but not for `(expr, id) < (v, id)`.)
            args.append(cursor.id)
            let id = args.count
            switch sort {
            case .email:
                args.append(cursor.value); conditions.append("u.email_normalized > $\(args.count)")
            case .used:
                args.append(cursor.integer ?? 0); conditions.append("(storage_used_bytes, u.id) < ($\(args.count), $\(id))")
            case .quota:
                args.append(cursor.integer ?? 0); conditions.append("(quota_bytes, u.id) < ($\(args.count), $\(id))")
            case .usage:
                args.append(Double(cursor.value) ?? 0)
                let usage = QuotaMaintenance.usageSQL(db.dialect)
                conditions.append("(\(usage) < $\(args.count) OR (\(usage) = $\(args.count) AND u.id < $\(id)))")
            }
        }
        // Few matches: the filter's index finds them and they are sorted (SQLite would otherwise
        // walk the e-mail index and test every row; unary + keeps it off that index). Many
        // matches: walking the e-mail index finds a page of them within a few rows.
        let hint = filter != .all && total <= 5000 && db.dialect == .sqlite ? "+" : ""
        let order: String
        switch sort {
        case .email: order = "\(hint)u.email_normalized"
        case .used: order = "storage_used_bytes DESC, u.id DESC"
        case .usage: order = "\(QuotaMaintenance.usageSQL(db.dialect)) DESC, u.id DESC"
        case .quota: order = "quota_bytes DESC, u.id DESC"
        }
        args.append(pageSize + 1)
        let allConditions = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        var rows = try db.query("""
            SELECT \(Self.columns), \(QuotaMaintenance.usageSQL(db.dialect)) AS usage_ratio FROM users u LEFT JOIN tariff_plans p ON p.id = u.plan_id
            \(allConditions) ORDER BY \(order) LIMIT $\(args.count)
            """, args)
        var next: PageCursor?
        if rows.count > pageSize {
            rows.removeLast()
            let last = rows[rows.count - 1]
            let id: Int64 = try last.get("id")
            switch sort {
            case .email: next = PageCursor(value: try last.get("email_normalized"), id: id)
            case .used: next = PageCursor(value: String(try last.get("storage_used_bytes", as: Int64.self)), id: id)
            case .quota: next = PageCursor(value: String(try last.get("effective", as: Int64.self)), id: id)
            case .usage: next = PageCursor(value: String(try last.get("usage_ratio", as: Double.self)), id: id)
            }
        }
        return (try rows.map(Self.quota), total, next)
    }

    public func quota(userID: Int64) throws -> UserQuota? {
        try db.queryOne("""
            SELECT \(Self.columns) FROM users u LEFT JOIN tariff_plans p ON p.id = u.plan_id WHERE u.id = $1
            """, [userID]).map(Self.quota)
    }

    /// Sets (or, with nil, clears) a user's override, with its audit entry.
    public func setOverride(userID: Int64, bytes: Int64?, by actor: AuditLog.Actor) throws {
        try db.write {
            guard let before = try db.queryOne("SELECT quota_override_bytes FROM users WHERE id = $1", [userID]) else {
                throw ValidationError("", "This user does not exist.")
            }
            let old: Int64? = try before.get("quota_override_bytes")
            try db.execute("UPDATE users SET quota_override_bytes = $1, updated_at = $2 WHERE id = $3", [bytes, clock.now(), userID])
            try AuditLog(db: db, clock: clock).record(actor, action: bytes == nil ? "user.quota_override_clear" : "user.quota_override_set",
                                                      entityType: "user", entityID: String(userID),
                                                      before: [("quota_override_bytes", old.map(String.init))],
                                                      after: [("quota_override_bytes", bytes.map(String.init))])
        }
    }

    /// Puts a user on a plan (nil: no plan, the free storage). An archived plan cannot be given.
    public func assignPlan(userID: Int64, planID: Int64?, by actor: AuditLog.Actor) throws {
        try db.write {
            guard let before = try db.queryOne("SELECT plan_id FROM users WHERE id = $1", [userID]) else {
                throw ValidationError("plan_id", "This user does not exist.")
            }
            let old: Int64? = try before.get("plan_id")
            if let planID, planID != old {
                guard let plan = try TariffPlanStore(db: db, clock: clock).find(id: planID), plan.archivedAt == nil, plan.active else {
                    throw ValidationError("plan_id", "Choose an active plan.")
                }
            }
            if planID != old {
                // A new plan starts its own billing periods today; a priced one is due at once
                // (the jobs runner charges it), and a renewal left unpaid under the old one is over.
                let now = clock.now()
                let price = try planID.flatMap { try db.scalar("SELECT monthly_price_minor FROM tariff_plans WHERE id = $1", [$0], as: Int64.self) } ?? 0
                try db.execute("""
                    UPDATE users SET plan_id = $1, plan_anchor_at = $2, plan_renews_at = $3, plan_grace_until = NULL, updated_at = $4 WHERE id = $5
                    """, [planID, planID == nil ? nil : now, price > 0 ? now : nil, now, userID])
                try db.execute("UPDATE plan_renewals SET status = 'lapsed', updated_at = $1 WHERE user_id = $2 AND status = 'failed'", [now, userID])
            }
            try AuditLog(db: db, clock: clock).record(actor, action: "user.plan_assign", entityType: "user", entityID: String(userID),
                                                      before: [("plan_id", old.map(String.init))], after: [("plan_id", planID.map(String.init))])
        }
    }

    static func quota(_ row: Row) throws -> UserQuota {
        let price: Int64? = try row.get("plan_price")
        let currency = (try row.get("plan_currency", as: String?.self)).flatMap(Currency.init(code:))
        return UserQuota(userID: try row.get("id"), email: try row.get("email"), name: try row.get("name"), planName: try row.get("plan_name"),
                         planStorageBytes: try row.get("plan_storage"), purchasedExtraBytes: try row.get("purchased_extra_bytes"),
                         overrideBytes: try row.get("quota_override_bytes"), effectiveBytes: try row.get("effective"),
                         usedBytes: try row.get("storage_used_bytes"), overQuotaSince: try row.get("over_quota_since"),
                         planPrice: price.flatMap { p in currency.map { Money(minorUnits: p, currency: $0) } },
                         planRenewsAt: try row.get("plan_renews_at"), planGraceUntil: try row.get("plan_grace_until"))
    }
}
