import Database

/// Balances as an append-only ledger: every change is a row, never an update; the database
/// refuses UPDATE and DELETE on it. A balance is the sum of a user's rows in a currency, kept in
/// `balances` by a trigger on every append (which also refuses a sum below zero).
/// (The purchase API appends to it in the same transaction as what it pays for.)
public struct BalanceLedger {
    let db: Database
    let clock: EpochClock

    public init(db: Database, clock: EpochClock) {
        self.db = db
        self.clock = clock
    }

    /// The maintained sum of the user's rows (`balances`, kept by a trigger on every append).
    public func balance(userID: Int64, currency: Currency) throws -> Money {
        let sum = try db.scalar("SELECT balance_minor FROM balances WHERE user_id = $1 AND currency = $2",
                                [userID, currency.code], as: Int64.self) ?? 0
        return Money(minorUnits: sum, currency: currency)
    }

    /// Appends one entry (a credit is positive, a charge negative).
    public func append(userID: Int64, amount: Money, reason: String, reference: String? = nil,
                       idempotencyKey: String? = nil, by actor: Int64? = nil) throws {
        try db.execute("""
            INSERT INTO balance_ledger (user_id, amount_minor, currency, reason, reference, idempotency_key, created_by, created_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
            """, [userID, amount.minorUnits, amount.currency.code, reason, reference, idempotencyKey, actor, clock.now()])
    }
}

/// A balance change refused because the balance would go below zero.
public struct InsufficientBalance: Error, Equatable, CustomStringConvertible {
    public let balance: Money
    public let shortfall: Money
    public var description: String { "The balance is \(balance); \(shortfall) more would be needed." }
}

/// One line of a user's statement: a ledger row with the balance after it.
public struct StatementLine: Sendable, Equatable {
    public let id: Int64
    public let createdAt: Int64
    public let reason: String
    public let amount: Money
    public let balanceAfter: Money
}

extension BalanceLedger {
    /// An admin's credit (a positive amount) or debit (a negative one), for `reason`: in one write
    /// transaction the balance is read, refused if it would go below zero, the row appended and
    /// the change audited. Returns the new balance.
    @discardableResult
    public func adjust(userID: Int64, amount: Money, reason raw: String, by actor: AuditLog.Actor) throws -> Money {
        let reason = raw.trimmingSpaces()
        guard !reason.isEmpty else { throw ValidationError("reason", "Say why (it is shown on the user's statement).") }
        guard reason.count <= 200 else { throw ValidationError("reason", "Use at most 200 characters.") }
        guard amount.minorUnits != 0 else { throw ValidationError("amount", "Enter an amount above zero.") }
        return try db.write {
            let before = try balance(userID: userID, currency: amount.currency)
            let (sum, overflow) = before.minorUnits.addingReportingOverflow(amount.minorUnits)
            guard !overflow else { throw ValidationError("amount", "This amount is too large.") }
            guard sum >= 0 else {
                throw InsufficientBalance(balance: before, shortfall: Money(minorUnits: -sum, currency: amount.currency))
            }
            try append(userID: userID, amount: amount, reason: reason, reference: "admin", by: actor.userID)
            let after = Money(minorUnits: sum, currency: amount.currency)
            try AuditLog(db: db, clock: clock).record(actor, action: amount.minorUnits > 0 ? "balance.credit" : "balance.debit", entityType: "user",
                                                      entityID: String(userID), before: [("balance", before.decimalText)],
                                                      after: [("balance", after.decimalText), ("amount", amount.decimalText), ("reason", reason)])
            return after
        }
    }

    /// The user's ledger rows in `currency` from `from` (inclusive) to `to` (exclusive), oldest
    /// first, each with the balance after it, and the balance before the first.
    public func statement(userID: Int64, currency: Currency, from: Int64?, to: Int64?) throws -> (opening: Money, lines: [StatementLine]) {
        try db.read {
            let start = from ?? Int64.min
            let end = to ?? Int64.max
            let opening = try db.scalar("""
                SELECT coalesce(sum(amount_minor), 0) FROM balance_ledger WHERE user_id = $1 AND currency = $2 AND created_at < $3
                """, [userID, currency.code, start], as: Int64.self) ?? 0
            var running = opening
            let lines = try db.query("""
                SELECT id, created_at, reason, amount_minor FROM balance_ledger
                WHERE user_id = $1 AND currency = $2 AND created_at >= $3 AND created_at < $4 ORDER BY created_at, id
                """, [userID, currency.code, start, end]).map { row -> StatementLine in
                    let amount: Int64 = try row.get("amount_minor")
                    running += amount
                    return StatementLine(id: try row.get("id"), createdAt: try row.get("created_at"), reason: try row.get("reason"),
                                         amount: Money(minorUnits: amount, currency: currency), balanceAfter: Money(minorUnits: running, currency: currency))
                }
            return (Money(minorUnits: opening, currency: currency), lines)
        }
    }
}
