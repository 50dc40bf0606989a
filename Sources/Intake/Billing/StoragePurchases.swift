import Database
import Foundation

/// A one-time purchase of extra storage.
public struct StoragePurchase: Sendable, Equatable {
    public let id: Int64
    public let pricingVersionID: Int64
    public let gb: Int
    public let bytes: Int64
    public let cost: Money
    public let startsAt: Int64
    /// nil: it never expires.
    public let expiresAt: Int64?
    /// When it stopped counting (nil while it counts).
    public var expiredAt: Int64? = nil
}

/// Why a purchase was not made.
public enum PurchaseRefusal: Error, Equatable {
    /// No pricing has been saved: nothing is for sale.
    case noPricing
    /// `gb` is not a whole number within the pricing's range, or its cost overflows.
    case invalidAmount(String)
    case insufficientBalance(balance: Money, cost: Money)
    /// The client expected another cost than the current pricing's.
    case pricingChanged(expected: Int64, current: Money)
}

/// Purchases of extra storage, paid from the balance: the cost by the pricing in force, and in
/// one write transaction the balance checked, the debit appended, the purchase recorded and the
/// user's purchased extra storage raised (the effective quota follows by the quota triggers).
public struct StoragePurchases {
    let db: Database
    let clock: EpochClock
    let pricing: StoragePricingStore

    public init(db: Database, clock: EpochClock, pricing: StoragePricingStore) {
        self.db = db
        self.clock = clock
        self.pricing = pricing
    }

    /// A purchased GB, as the pricing sells it (decimal, like the free storage's 5 GB).
    public static let bytesPerGB: Int64 = 1_000_000_000

    /// `gb × pricePerGB`, exactly in minor units; nil when it does not fit in 64 bits.
    public static func cost(gb: Int, pricePerGB: Money) -> Money? {
        let (minor, overflow) = Int64(gb).multipliedReportingOverflow(by: pricePerGB.minorUnits)
        return overflow ? nil : Money(minorUnits: minor, currency: pricePerGB.currency)
    }

    /// Buys `gb` for the user. `expectedCostMinor`, when sent, must be the current cost.
    public func buy(userID: Int64, gb: Int, expectedCostMinor: Int64?, by actor: AuditLog.Actor)
        throws -> (purchase: StoragePurchase, balance: Money, quota: UserQuota?) {
        try db.write {
            guard let version = try self.pricing.history(limit: 1).first else {
                throw PurchaseRefusal.noPricing
            }
            let pricing = version.pricing
            guard (pricing.minimumGB...pricing.maximumGB).contains(gb) else {
                throw PurchaseRefusal.invalidAmount("Buy from \(pricing.minimumGB) to \(pricing.maximumGB) GB at a time.")
            }
            guard let cost = Self.cost(gb: gb, pricePerGB: pricing.pricePerGB),
                  case (let bytes, false) = Int64(gb).multipliedReportingOverflow(by: Self.bytesPerGB) else {
                throw PurchaseRefusal.invalidAmount("That is more than can be bought at once.")
            }
            if let expectedCostMinor, expectedCostMinor != cost.minorUnits {
                throw PurchaseRefusal.pricingChanged(expected: expectedCostMinor, current: cost)
            }
            let ledger = BalanceLedger(db: db, clock: clock)
            let balance = try ledger.balance(userID: userID, currency: cost.currency)
            guard balance.minorUnits >= cost.minorUnits else { throw PurchaseRefusal.insufficientBalance(balance: balance, cost: cost) }
            let now = clock.now()
            let expires = pricing.validityDays.map { now + Int64($0) * 86400 }
            let id = try db.scalar("""
                INSERT INTO storage_purchases (user_id, pricing_version_id, gb, bytes, cost_minor, currency, starts_at, expires_at, created_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $7) RETURNING id
                """, [userID, version.id, gb, bytes, cost.minorUnits, cost.currency.code, now, expires], as: Int64.self)!
            try ledger.append(userID: userID, amount: Money(minorUnits: -cost.minorUnits, currency: cost.currency),
                              reason: "Storage purchase: \(gb) GB", reference: "purchase:\(id)", by: actor.userID)
            try db.execute("UPDATE users SET purchased_extra_bytes = purchased_extra_bytes + $1 WHERE id = $2", [bytes, userID])
            try AuditLog(db: db, clock: clock).record(actor, action: "storage.purchase", entityType: "storage_purchase", entityID: String(id),
                                                      after: [("gb", String(gb)), ("cost", cost.description), ("expires_at", expires.map(String.init))])
            try WebhookEvents(db: db, clock: clock).emit(userID: userID, type: .purchaseCompleted, data: [
                "object": "storage_purchase", "id": id, "gb": gb, "bytes": bytes, "cost_minor": cost.minorUnits, "currency": cost.currency.code,
                "starts_at": now, "expires_at": expires.map { $0 as Any } ?? NSNull(), "created": now,
            ])
            // The quota the purchase made, for the answer: the callers keep it with the answer in
            // this transaction, so reading it again there would be one more statement under the lock.
            let quota = try QuotaStore(db: db, clock: clock).quota(userID: userID)
            let purchase = StoragePurchase(id: id, pricingVersionID: version.id, gb: gb, bytes: bytes, cost: cost, startsAt: now, expiresAt: expires)
            return (purchase, Money(minorUnits: balance.minorUnits - cost.minorUnits, currency: cost.currency), quota)
        }
    }

    /// How long before its expiry the buyer is reminded.
    public static let reminderSeconds: Int64 = 7 * 86400

    /// The expiry job: purchases past their expiry stop counting (the purchased extra storage
    /// goes down by theirs, the quota follows) and the buyer is mailed; those within a week of
    /// it are reminded once. Each purchase is claimed by a compare-and-set on its own column, in
    /// the transaction that acts on it, so two runners (or a rerun after a crash) act once.
    @discardableResult
    public func expireDue(limit: Int = 500) throws -> (reminded: Int, expired: Int) {
        let now = clock.now()
        var reminded = 0, expired = 0
        let soon = try db.query("""
            SELECT p.id, p.user_id, p.gb, p.expires_at, u.email FROM storage_purchases p JOIN users u ON u.id = p.user_id
            WHERE p.expired_at IS NULL AND p.reminded_at IS NULL AND p.expires_at IS NOT NULL AND p.expires_at > $1 AND p.expires_at <= $2
            ORDER BY p.expires_at LIMIT $3
            """, [now, now + Self.reminderSeconds, limit])
        for row in soon {
            let id: Int64 = try row.get("id")
            try db.write {
                guard try db.execute("UPDATE storage_purchases SET reminded_at = $1 WHERE id = $2 AND reminded_at IS NULL AND expired_at IS NULL",
                                     [now, id]) == 1 else { return }
                let days = max(1, (try row.get("expires_at", as: Int64.self) - now + 86399) / 86400)
                try MailOutbox(db: db, clock: clock).enqueue(
                    to: try row.get("email"), subject: "Your extra storage expires in \(days) day\(days == 1 ? "" : "s")",
                    body: "The \(try row.get("gb", as: Int.self)) GB you bought expire in \(days) day\(days == 1 ? "" : "s"). Buy more on your storage page to keep the room.")
                reminded += 1
            }
        }
        let due = try db.query("""
            SELECT p.id, p.user_id, p.gb, p.bytes, u.email FROM storage_purchases p JOIN users u ON u.id = p.user_id
            WHERE p.expired_at IS NULL AND p.expires_at IS NOT NULL AND p.expires_at <= $1 ORDER BY p.expires_at LIMIT $2
            """, [now, limit])
        for row in due {
            let id: Int64 = try row.get("id")
            try db.write {
                guard try db.execute("UPDATE storage_purchases SET expired_at = $1 WHERE id = $2 AND expired_at IS NULL", [now, id]) == 1 else { return }
                let userID: Int64 = try row.get("user_id")
                try db.execute("UPDATE users SET purchased_extra_bytes = purchased_extra_bytes - $1 WHERE id = $2", [try row.get("bytes", as: Int64.self), userID])
                try AuditLog(db: db, clock: clock).record(AuditLog.Actor(userID: nil, remoteAddress: ""), action: "storage.purchase_expired",
                                                          entityType: "storage_purchase", entityID: String(id), after: [("user_id", String(userID))])
                try MailOutbox(db: db, clock: clock).enqueue(
                    to: try row.get("email"), subject: "Your extra storage has expired",
                    body: "The \(try row.get("gb", as: Int.self)) GB you bought have expired and no longer count towards your quota.")
                expired += 1
            }
        }
        return (reminded, expired)
    }

    /// The user's purchases, newest first.
    public func list(userID: Int64) throws -> [StoragePurchase] {
        try db.query("SELECT * FROM storage_purchases WHERE user_id = $1 ORDER BY id DESC", [userID]).map { row in
            let code: String = try row.get("currency")
            guard let currency = Currency(code: code) else { throw DatabaseError(.decoding, "unknown currency \(code)") }
            return StoragePurchase(id: try row.get("id"), pricingVersionID: try row.get("pricing_version_id"), gb: try row.get("gb"),
                                   bytes: try row.get("bytes"), cost: Money(minorUnits: try row.get("cost_minor"), currency: currency),
                                   startsAt: try row.get("starts_at"), expiresAt: try row.get("expires_at"), expiredAt: try row.get("expired_at"))
        }
    }
}

/// Idempotency keys (Stripe's semantics): the first answer to a request with a key is kept and
/// replayed, byte for byte, to every repeat with the same key and the same request; the same key
/// with another request is refused. Looking up, running and keeping happen in one write
/// transaction, so twins sent at once are served one after the other: one runs, the other replays.
public struct IdempotencyKeys {
    let db: Database
    let clock: EpochClock

    public init(db: Database, clock: EpochClock) {
        self.db = db
        self.clock = clock
    }

    /// How long a key is kept, at least.
    public static let keepSeconds: Int64 = 24 * 3600

    public struct Answer: Sendable, Equatable {
        public let status: Int
        public let body: [UInt8]
        public init(status: Int, body: [UInt8]) {
            self.status = status
            self.body = body
        }
    }

    /// The same key sent with another request.
    public struct Mismatch: Error, Equatable {}

    /// The kept answer to (`userID`, `scope`, `key`), or `run`'s, kept when it says so.
    public func answer(userID: Int64, scope: String, key: String, requestHash: String,
                       run: () throws -> (answer: Answer, keep: Bool)) throws -> Answer {
        try db.write {
            if let row = try db.queryOne("SELECT request_hash, status, body FROM idempotency_keys WHERE user_id = $1 AND scope = $2 AND key = $3",
                                         [userID, scope, key]) {
                guard try row.get("request_hash", as: String.self) == requestHash else { throw Mismatch() }
                return Answer(status: try row.get("status"), body: try row.get("body"))
            }
            let (answer, keep) = try run()
            if keep {
                try db.execute("""
                    INSERT INTO idempotency_keys (user_id, scope, key, request_hash, status, body, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
                    """, [userID, scope, key, requestHash, answer.status, answer.body, clock.now()])
            }
            return answer
        }
    }

    /// Forgets keys older than `keepSeconds` (the jobs runner calls it).
    @discardableResult
    public func removeExpired() throws -> Int {
        try db.execute("DELETE FROM idempotency_keys WHERE created_at < $1", [clock.now() - Self.keepSeconds])
    }
}
