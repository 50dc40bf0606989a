import Database

/// Leases of one kind, kept in the database so that every thread, process and host sharing it
/// agrees who may do a piece of work: lead the background jobs, refresh an account's token,
/// deliver a file, hold quota for a request in flight. A lease has one holder (`LeaseHolder`,
/// `host:pid:token`) until its expiry; the holder renews it while it works and releases it when
/// done. A lease is free when nobody holds it, when its time is up, or when its holder is a
/// process known to be gone (`ProcessLiveness`): then the next taker takes it over, at once for
/// a crashed worker of this host, by time for one of another host.
///
/// Time is the injected clock's, in whole seconds. A clock that jumps forward ends leases early:
/// another taker may take over, and the old holder finds out at its next renewal, which fails.
/// A clock that jumps back makes leases last longer, never shorter, so a live holder is never
/// robbed by a clock.
///
/// Every change is a compare-and-set on the holder it saw, in portable SQL (numbered parameters,
/// no `IS $n`), so two takers racing for a free lease cannot both win, on SQLite or PostgreSQL.
public struct Lease {
    /// Where a kind of lease is kept: a table, the column naming what is leased, and the
    /// holder and expiry columns (seconds since the epoch).
    public struct Storage: Sendable {
        public let table: String
        public let key: String
        public let holder: String
        public let expires: String
        /// A lease of its own row (inserted when taken, deleted when released: job leadership,
        /// token refresh), or two columns of a row that lives apart from the lease (set when
        /// taken; the holder cleared when released, and an expiry without a holder means nothing:
        /// a file being delivered, a request's quota).
        public let ownRow: Bool

        public init(table: String, key: String, holder: String, expires: String, ownRow: Bool) {
            self.table = table
            self.key = key
            self.holder = holder
            self.expires = expires
            self.ownRow = ownRow
        }
    }

    let db: Database
    let clock: EpochClock
    let liveness: any ProcessLiveness
    public let storage: Storage

    public init(db: Database, clock: EpochClock, liveness: any ProcessLiveness, storage: Storage) {
        self.db = db
        self.clock = clock
        self.liveness = liveness
        self.storage = storage
    }

    /// Takes the lease on `key` for `seconds` from now: when it is free, or already `holder`'s (then
    /// it is renewed). False when another live holder has it, or (a lease of columns) when there
    /// is no row `key`.
    public func acquire(_ key: some DatabaseValueConvertible, for holder: LeaseHolder, seconds: Int64) throws -> Bool {
        let (t, k, h, e) = (storage.table, storage.key, storage.holder, storage.expires)
        return try db.write {
            let now = clock.now()
            guard let row = try db.queryOne("SELECT \(h) AS holder, \(e) AS expires FROM \(t) WHERE \(k) = $1", [key]) else {
                guard storage.ownRow else { return false }
                return try db.execute("INSERT INTO \(t) (\(k), \(h), \(e)) VALUES ($1, $2, $3) ON CONFLICT (\(k)) DO NOTHING",
                                      [key, holder.description, now + seconds]) == 1
            }
            let current: String? = try row.get("holder")
            if let current, current != holder.description, isHeld(holder: current, expiresAt: try row.get("expires"), now: now) { return false }
            if let current {
                return try db.execute("UPDATE \(t) SET \(h) = $1, \(e) = $2 WHERE \(k) = $3 AND \(h) = $4",
                                      [holder.description, now + seconds, key, current]) == 1
            }
            return try db.execute("UPDATE \(t) SET \(h) = $1, \(e) = $2 WHERE \(k) = $3 AND \(h) IS NULL",
                                  [holder.description, now + seconds, key]) == 1
        }
    }

    /// Extends `holder`'s lease on `key` to `seconds` from now. False when it is no longer
    /// `holder`'s (released, or taken over after its time was up): the work it guards must stop.
    /// A lease whose time is up but that nobody took is still its holder's, and renewed.
    public func renew(_ key: some DatabaseValueConvertible, for holder: LeaseHolder, seconds: Int64) throws -> Bool {
        try db.execute("UPDATE \(storage.table) SET \(storage.expires) = $1 WHERE \(storage.key) = $2 AND \(storage.holder) = $3",
                       [clock.now() + seconds, key, holder.description]) == 1
    }

    /// Gives `holder`'s lease on `key` back; only its holder can. False when it was not `holder`'s.
    @discardableResult
    public func release(_ key: some DatabaseValueConvertible, by holder: LeaseHolder) throws -> Bool {
        let (t, k, h) = (storage.table, storage.key, storage.holder)
        if storage.ownRow {
            return try db.execute("DELETE FROM \(t) WHERE \(k) = $1 AND \(h) = $2", [key, holder.description]) == 1
        }
        return try db.execute("UPDATE \(t) SET \(h) = NULL WHERE \(k) = $1 AND \(h) = $2", [key, holder.description]) == 1
    }

    /// Whether someone (anyone) holds the lease on `key` now.
    public func isHeld(_ key: some DatabaseValueConvertible) throws -> Bool { try holder(of: key) != nil }

    /// Who holds the lease on `key` now (`host:pid:token`), if anyone does.
    public func holder(of key: some DatabaseValueConvertible) throws -> String? {
        guard let row = try db.queryOne("SELECT \(storage.holder) AS holder, \(storage.expires) AS expires FROM \(storage.table) WHERE \(storage.key) = $1",
                                        [key]) else { return nil }
        let holder: String? = try row.get("holder")
        return isHeld(holder: holder, expiresAt: try row.get("expires"), now: clock.now()) ? holder : nil
    }

    /// The rule, for a lease recorded as held by `holder` until `expiresAt`: held by a live holder
    /// whose time is not up. A holder whose process cannot be named (a format from before
    /// `LeaseHolder`) is never taken for dead; its lease ends by time.
    public func isHeld(holder: String?, expiresAt: Int64?, now: Int64) -> Bool {
        guard let holder, let expiresAt, expiresAt > now else { return false }
        return LeaseHolder(holder).map(liveness.isAlive) ?? true
    }

    /// The keys of leases whose holder is a process known to be gone, whatever their time.
    public func keysHeldByTheDead<Key: DatabaseValueConvertible>(as type: Key.Type) throws -> [Key] {
        try db.query("SELECT \(storage.key) AS key, \(storage.holder) AS holder FROM \(storage.table) WHERE \(storage.holder) IS NOT NULL")
            .filter { LeaseHolder(try $0.get("holder", as: String.self)).map(liveness.isAlive) == false }
            .map { try $0.get("key", as: Key.self) }
    }
}
