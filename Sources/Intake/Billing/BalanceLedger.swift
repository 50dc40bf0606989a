import Database

/// Balances as an append-only ledger: every change is a row, never an update; the database
/// refuses UPDATE and DELETE on it. A balance is the sum of a user's rows in a currency.
/// (The purchase API appends to it in the same transaction as what it pays for.)
public struct BalanceLedger {
    let db: Database
    let clock: EpochClock

    public init(db: Database, clock: EpochClock) {
        self.db = db
        self.clock = clock
    }

    public func balance(userID: Int64, currency: Currency) throws -> Money {
        let sum = try db.scalar("SELECT coalesce(sum(amount_minor), 0) FROM balance_ledger WHERE user_id = $1 AND currency = $2",
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
