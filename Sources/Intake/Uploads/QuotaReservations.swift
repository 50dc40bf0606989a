import Database
import Spool

/// Quota held for uploads in flight. A reservation is made in one write transaction that reads
/// usage, live reservations and the quota together, so parallel uploads cannot exceed a quota
/// between them; it becomes usage when the file is recorded, or is released (or expires).
public struct QuotaReservations {
    let db: Database
    let clock: EpochClock
    /// Which processes still run: a dead request's reservation is dropped at once.
    let liveness: any ProcessLiveness

    /// A reservation nobody turned into usage or released is dropped after this long (the
    /// recovery job for crashed uploads relies on it).
    public static let lifetimeSeconds: Int64 = 6 * 3600

    public init(db: Database, clock: EpochClock, liveness: any ProcessLiveness = LocalProcesses()) {
        self.db = db
        self.clock = clock
        self.liveness = liveness
    }

    public enum Outcome: Sendable, Equatable {
        case reserved(id: Int64)
        /// Refused; the bytes still free (quota minus usage minus other reservations).
        case overQuota(remainingBytes: Int64)
    }

    /// A request's reservation is leased to its process: the reservation's `holder` and its
    /// `expires_at`. It ends with its row (used, released or expired).
    static let leaseStorage = Lease.Storage(table: "upload_reservations", key: "id", holder: "holder", expires: "expires_at", ownRow: false)

    var lease: Lease { Lease(db: db, clock: clock, liveness: liveness, storage: Self.leaseStorage) }

    /// Holds `bytes` for `lifetime` seconds (a resumable upload holds them as long as it may be
    /// resumed). `holder` is the request's, when they die with its process.
    public func reserve(userID: Int64, bytes: Int64, lifetime: Int64 = lifetimeSeconds, holder: LeaseHolder? = nil) throws -> Outcome {
        try db.write {
            let now = clock.now()
            let remaining = try self.remaining(userID: userID)
            guard bytes <= remaining else { return .overQuota(remainingBytes: remaining) }
            let id = try db.scalar("""
                INSERT INTO upload_reservations (user_id, bytes, created_at, expires_at) VALUES ($1, $2, $3, $4) RETURNING id
                """, [userID, bytes, now, now + lifetime], as: Int64.self)!
            // A new row in this transaction: nobody else can hold it yet.
            if let holder { _ = try lease.acquire(id, for: holder, seconds: lifetime) }
            return .reserved(id: id)
        }
    }

    /// The bytes still free: quota minus usage minus live reservations (inside a write
    /// transaction, the figure a reservation can rely on; outside one, a snapshot).
    public func remaining(userID: Int64) throws -> Int64 {
        guard let row = try db.queryOne("""
            SELECT u.quota_bytes, u.storage_used_bytes,
                   (SELECT coalesce(sum(bytes), 0) FROM upload_reservations r WHERE r.user_id = u.id AND r.expires_at > $2) AS reserved
            FROM users u WHERE u.id = $1
            """, [userID, clock.now()]) else { throw ValidationError("", "There is no such user.") }
        let quota: Int64 = try row.get("quota_bytes")
        let used: Int64 = try row.get("storage_used_bytes")
        let reserved: Int64 = try row.get("reserved")
        return max(0, quota - used - reserved)
    }

    /// Turns a reservation into usage of `actualBytes` (the caller runs this inside the
    /// transaction that records the file, so both happen or neither).
    public func commit(reservationID: Int64, actualBytes: Int64) throws {
        try db.write {
            guard let row = try db.queryOne("DELETE FROM upload_reservations WHERE id = $1 RETURNING user_id", [reservationID]) else {
                throw ValidationError("", "The reservation expired or was already used.")
            }
            try db.execute("UPDATE users SET storage_used_bytes = storage_used_bytes + $1 WHERE id = $2",
                           [actualBytes, try row.get("user_id", as: Int64.self)])
        }
    }

    /// Moves `bytes` of a reservation into usage, keeping the rest held (several files in one
    /// request). Runs inside the caller's transaction when there is one.
    public func consume(reservationID: Int64, bytes: Int64) throws {
        try db.write {
            guard let row = try db.queryOne("SELECT user_id, bytes FROM upload_reservations WHERE id = $1", [reservationID]) else {
                throw ValidationError("", "The reservation expired or was already used.")
            }
            let held: Int64 = try row.get("bytes")
            try db.execute("UPDATE upload_reservations SET bytes = $1 WHERE id = $2", [max(0, held - bytes), reservationID])
            try db.execute("UPDATE users SET storage_used_bytes = storage_used_bytes + $1 WHERE id = $2",
                           [bytes, try row.get("user_id", as: Int64.self)])
        }
    }

    /// Turns `bytes` into usage without a reservation (a request small enough to be read whole
    /// first) when the owner has room for `room` bytes (the rest of the request, these bytes
    /// among them); false, changing nothing, when not. Runs inside the caller's transaction when
    /// there is one, so the check and the use are one step.
    public func use(userID: Int64, bytes: Int64, room: Int64) throws -> Bool {
        try db.write {
            guard max(bytes, room) <= (try remaining(userID: userID)) else { return false }
            try db.execute("UPDATE users SET storage_used_bytes = storage_used_bytes + $1 WHERE id = $2", [bytes, userID])
            return true
        }
    }

    /// Keeps a reservation alive until `expiresAt` (a resumable upload that is still moving).
    public func extend(reservationID: Int64, until expiresAt: Int64) throws {
        try db.execute("UPDATE upload_reservations SET expires_at = CASE WHEN expires_at < $1 THEN $1 ELSE expires_at END WHERE id = $2", [expiresAt, reservationID])
    }

    public func release(reservationID: Int64) throws {
        try db.execute("DELETE FROM upload_reservations WHERE id = $1", [reservationID])
    }

    /// Crash recovery: reservations of requests whose process died (this host) go at once.
    @discardableResult
    public func removeAbandoned() throws -> Int {
        var removed = 0
        for id in try lease.keysHeldByTheDead(as: Int64.self) {
            removed += try db.execute("DELETE FROM upload_reservations WHERE id = $1", [id])
        }
        return removed
    }

    @discardableResult
    public func removeExpired() throws -> Int {
        try db.execute("DELETE FROM upload_reservations WHERE expires_at <= $1", [clock.now()])
    }
}
