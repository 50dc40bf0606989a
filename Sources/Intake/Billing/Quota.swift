import Database

/// The effective quota rule, the one definition used everywhere: an admin override if set;
/// otherwise the plan's storage plus active purchases; otherwise the free storage plus active
/// purchases.
public enum QuotaRule {
    public static func effectiveQuota(overrideBytes: Int64?, planStorageBytes: Int64?, freeStorageBytes: Int64, purchasedExtraBytes: Int64) -> Int64 {
        if let overrideBytes { return overrideBytes }
        return (planStorageBytes ?? freeStorageBytes) + purchasedExtraBytes
    }

    /// The same rule as SQL over `users u LEFT JOIN tariff_plans p`, with the free storage as
    /// parameter `$free`, so lists can filter and sort by it in the database. A unit test checks
    /// that both renderings agree.
    public static func sql(free: String) -> String {
        "COALESCE(u.quota_override_bytes, COALESCE(p.storage_bytes, \(free)) + u.purchased_extra_bytes)"
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
    let clock: Clock

    public init(db: Database, clock: Clock) {
        self.db = db
        self.clock = clock
    }

    public enum Filter: String, Sendable, CaseIterable { case all, over, near }
    public enum Sort: String, Sendable, CaseIterable { case email, used, usage, quota }

    static func columns(free: String) -> String {
        """
        u.id, u.email, u.name, p.name AS plan_name, p.storage_bytes AS plan_storage, u.purchased_extra_bytes,
        u.quota_override_bytes, u.storage_used_bytes, \(QuotaRule.sql(free: free)) AS effective
        """
    }

    /// One page of users with their quotas: search by e-mail or name prefix, filter, sort.
    public func page(search: String, filter: Filter, sort: Sort, page: Int, pageSize: Int, freeStorageBytes: Int64) throws -> (rows: [UserQuota], total: Int) {
        var conditions: [String] = []
        var args: [any DatabaseValueConvertible] = [freeStorageBytes]
        let rule = QuotaRule.sql(free: "$1")
        let query = search.trimmingSpaces()
        if !query.isEmpty {
            args.append(UserStore.likePrefix(query))
            conditions.append("(u.email_normalized LIKE $\(args.count) ESCAPE '\\' OR u.name LIKE $\(args.count) ESCAPE '\\')")
        }
        switch filter {
        case .all: break
        case .over: conditions.append("u.storage_used_bytes > \(rule)")
        case .near: conditions.append("u.storage_used_bytes <= \(rule) AND u.storage_used_bytes * 10 >= \(rule) * 9 AND \(rule) > 0")
        }
        let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        let order: String
        switch sort {
        case .email: order = "u.email_normalized"
        case .used: order = "u.storage_used_bytes DESC, u.id"
        case .usage: order = "CAST(u.storage_used_bytes AS REAL) / MAX(\(rule), 1) DESC, u.id"
        case .quota: order = "effective DESC, u.id"
        }
        let total = try db.scalar("""
            SELECT count(*) FROM (SELECT \(rule) AS effective FROM users u LEFT JOIN tariff_plans p ON p.id = u.plan_id \(whereClause))
            """, args, as: Int.self) ?? 0
        args.append(pageSize)
        args.append(max(0, page - 1) * pageSize)
        let rows = try db.query("""
            SELECT \(Self.columns(free: "$1")) FROM users u LEFT JOIN tariff_plans p ON p.id = u.plan_id
            \(whereClause) ORDER BY \(order) LIMIT $\(args.count - 1) OFFSET $\(args.count)
            """, args).map(Self.quota)
        return (rows, total)
    }

    public func quota(userID: Int64, freeStorageBytes: Int64) throws -> UserQuota? {
        try db.queryOne("""
            SELECT \(Self.columns(free: "$2")) FROM users u LEFT JOIN tariff_plans p ON p.id = u.plan_id WHERE u.id = $1
            """, [userID, freeStorageBytes]).map(Self.quota)
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
            try db.execute("UPDATE users SET plan_id = $1, updated_at = $2 WHERE id = $3", [planID, clock.now(), userID])
            try AuditLog(db: db, clock: clock).record(actor, action: "user.plan_assign", entityType: "user", entityID: String(userID),
                                                      before: [("plan_id", old.map(String.init))], after: [("plan_id", planID.map(String.init))])
        }
    }

    static func quota(_ row: Row) throws -> UserQuota {
        UserQuota(userID: try row.get("id"), email: try row.get("email"), name: try row.get("name"), planName: try row.get("plan_name"),
                  planStorageBytes: try row.get("plan_storage"), purchasedExtraBytes: try row.get("purchased_extra_bytes"),
                  overrideBytes: try row.get("quota_override_bytes"), effectiveBytes: try row.get("effective"),
                  usedBytes: try row.get("storage_used_bytes"))
    }
}
