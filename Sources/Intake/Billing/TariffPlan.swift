import Database

/// A tariff plan: a monthly price and what it includes.
public struct TariffPlan: Sendable, Equatable {
    public let id: Int64
    public var name: String
    public var monthlyPrice: Money
    public var storageBytes: Int64
    public var maxFileBytes: Int64
    public var maxPortals: Int
    public var active: Bool
    public var archivedAt: Int64?
    /// How many users are on it.
    public var userCount: Int

    var auditFields: [(String, String?)] {
        [("name", name), ("monthly_price", monthlyPrice.decimalText), ("currency", monthlyPrice.currency.code),
         ("storage_bytes", String(storageBytes)), ("max_file_bytes", String(maxFileBytes)), ("max_portals", String(maxPortals)),
         ("active", active ? "true" : "false"), ("archived", archivedAt == nil ? "false" : "true")]
    }
}

/// What the plan form carries.
public struct TariffPlanInput: Sendable, Equatable {
    public var name: String
    public var monthlyPrice: Money
    public var storageBytes: Int64
    public var maxFileBytes: Int64
    public var maxPortals: Int
    public var active: Bool

    /// Parses the plan form, collecting an error for every field that is wrong.
    public static func parse(_ field: (String) -> String?, currency: Currency) -> Result<TariffPlanInput, FieldErrors> {
        var errors = FieldErrors()
        let name = errors.capture("name") { () throws -> String in
            let n = (field("name") ?? "").trimmingSpaces()
            guard !n.isEmpty else { throw ValidationError("", "Enter a name.") }
            guard n.count <= 60 else { throw ValidationError("", "Use at most 60 characters.") }
            return n
        }
        let price = errors.capture("monthly_price") { try Money.parse(field("monthly_price") ?? "", currency: currency) }
        let storage = errors.capture("storage") { try ByteSize.parse(field("storage_number") ?? "", unit: field("storage_unit") ?? "") }
        let maxFile = errors.capture("max_file") { try ByteSize.parse(field("max_file_number") ?? "", unit: field("max_file_unit") ?? "") }
        if let maxFile, maxFile.bytes < 1 { errors["max_file"] = "The maximum file size must be more than zero." }
        let portals = errors.capture("max_portals") { try WholeNumber.parse(field("max_portals"), in: 0...10_000) }
        guard errors.isEmpty, let name, let price, let storage, let maxFile, let portals else { return .failure(errors) }
        return .success(TariffPlanInput(name: name, monthlyPrice: price, storageBytes: storage.bytes, maxFileBytes: maxFile.bytes,
                                        maxPortals: portals, active: field("active") != nil))
    }
}

/// Tariff plans in the database. A plan that users are on is never deleted, only archived:
/// its users keep it, nobody new can be given it.
public struct TariffPlanStore {
    let db: Database
    let clock: EpochClock

    public init(db: Database, clock: EpochClock) {
        self.db = db
        self.clock = clock
    }

    static let select = """
        SELECT p.*, (SELECT count(*) FROM users u WHERE u.plan_id = p.id) AS user_count FROM tariff_plans p
        """

    public func list(includeArchived: Bool) throws -> [TariffPlan] {
        try db.query(Self.select + (includeArchived ? "" : " WHERE p.archived_at IS NULL") + " ORDER BY p.archived_at IS NOT NULL, p.name")
            .map(Self.plan)
    }

    public func find(id: Int64) throws -> TariffPlan? {
        try db.queryOne(Self.select + " WHERE p.id = $1", [id]).map(Self.plan)
    }

    /// Whether another plan (not `id`) has this name (names are unique, case aside): the form
    /// says so together with its other errors, not in a second round.
    public func nameTaken(_ name: String, except id: Int64?) throws -> Bool {
        try db.scalar("SELECT count(*) FROM tariff_plans WHERE name = $1 COLLATE NOCASE AND id IS DISTINCT FROM $2", [name.trimmingSpaces(), id], as: Int.self) ?? 0 > 0
    }

    public func create(_ input: TariffPlanInput, by actor: AuditLog.Actor) throws -> TariffPlan {
        try db.write {
            let now = clock.now()
            let id: Int64
            do {
                id = try db.scalar("""
                    INSERT INTO tariff_plans (name, monthly_price_minor, currency, storage_bytes, max_file_bytes, max_portals, active, created_at, updated_at)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id
                    """, [input.name, input.monthlyPrice.minorUnits, input.monthlyPrice.currency.code, input.storageBytes,
                          input.maxFileBytes, input.maxPortals, input.active, now], as: Int64.self)!
            } catch let error as DatabaseError where error.kind == .constraint {
                throw ValidationError("name", "A plan with this name exists already.")
            }
            let plan = try find(id: id)!
            try AuditLog(db: db, clock: clock).record(actor, action: "tariff_plan.create", entityType: "tariff_plan", entityID: String(id),
                                                      after: plan.auditFields)
            return plan
        }
    }

    public func update(id: Int64, _ input: TariffPlanInput, by actor: AuditLog.Actor) throws -> TariffPlan {
        try db.write {
            guard let before = try find(id: id) else { throw ValidationError("", "This plan does not exist.") }
            do {
                try db.execute("""
                    UPDATE tariff_plans SET name = $1, monthly_price_minor = $2, currency = $3, storage_bytes = $4, max_file_bytes = $5,
                           max_portals = $6, active = $7, updated_at = $8 WHERE id = $9
                    """, [input.name, input.monthlyPrice.minorUnits, input.monthlyPrice.currency.code, input.storageBytes,
                          input.maxFileBytes, input.maxPortals, input.active && before.archivedAt == nil, clock.now(), id])
            } catch let error as DatabaseError where error.kind == .constraint {
                throw ValidationError("name", "A plan with this name exists already.")
            }
            let after = try find(id: id)!
            if before.monthlyPrice.minorUnits == 0 && after.monthlyPrice.minorUnits > 0 {
                // A free plan that gets a price: its users are charged from their next anniversary.
                let now = clock.now()
                for user in try db.query("SELECT id, plan_anchor_at FROM users WHERE plan_id = $1", [id]) {
                    let anchor: Int64 = (try user.get("plan_anchor_at")) ?? now
                    try db.execute("UPDATE users SET plan_anchor_at = $1, plan_renews_at = $2 WHERE id = $3",
                                   [anchor, BillingPeriod.containing(now, anchor: anchor).end, try user.get("id", as: Int64.self)])
                }
            }
            try AuditLog(db: db, clock: clock).record(actor, action: "tariff_plan.update", entityType: "tariff_plan", entityID: String(id),
                                                      before: before.auditFields, after: after.auditFields)
            return after
        }
    }

    /// Archives a plan: inactive and closed to new users; its users keep it.
    public func archive(id: Int64, by actor: AuditLog.Actor) throws {
        try db.write {
            guard let before = try find(id: id) else { throw ValidationError("", "This plan does not exist.") }
            guard before.archivedAt == nil else { return }
            try db.execute("UPDATE tariff_plans SET archived_at = $1, active = 0, updated_at = $1 WHERE id = $2", [clock.now(), id])
            try AuditLog(db: db, clock: clock).record(actor, action: "tariff_plan.archive", entityType: "tariff_plan", entityID: String(id),
                                                      before: before.auditFields, after: try find(id: id)!.auditFields)
        }
    }

    /// Deletes a plan nobody is on; one with users must be archived instead.
    public func delete(id: Int64, by actor: AuditLog.Actor) throws {
        try db.write {
            guard let before = try find(id: id) else { throw ValidationError("", "This plan does not exist.") }
            guard before.userCount == 0 else {
                throw ValidationError("", "\(before.userCount) user\(before.userCount == 1 ? " is" : "s are") on this plan, so it cannot be deleted. Archive it instead.")
            }
            try db.execute("DELETE FROM tariff_plans WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM users WHERE plan_id = $1)", [id])
            try AuditLog(db: db, clock: clock).record(actor, action: "tariff_plan.delete", entityType: "tariff_plan", entityID: String(id),
                                                      before: before.auditFields)
        }
    }

    static func plan(_ row: Row) throws -> TariffPlan {
        let code: String = try row.get("currency")
        guard let currency = Currency(code: code) else { throw DatabaseError(.decoding, "unknown currency \(code)") }
        return TariffPlan(id: try row.get("id"), name: try row.get("name"),
                          monthlyPrice: Money(minorUnits: try row.get("monthly_price_minor"), currency: currency),
                          storageBytes: try row.get("storage_bytes"), maxFileBytes: try row.get("max_file_bytes"),
                          maxPortals: try row.get("max_portals"), active: try row.get("active"), archivedAt: try row.get("archived_at"),
                          userCount: try row.get("user_count"))
    }
}
