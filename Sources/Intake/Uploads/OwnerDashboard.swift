import Database

/// What the owner's dashboard reads besides the lists other pages share: the owner's previous
/// visit, and the figures it shows at a glance. Each is read through an index and bounded, so
/// the dashboard costs the same for an owner with a million files as for one with ten.
public struct OwnerDashboard {
    let db: Database
    let clock: EpochClock

    public init(db: Database, clock: EpochClock) {
        self.db = db
        self.clock = clock
    }

    /// Views closer together than this are one visit.
    public static let visitGap: Int64 = 30 * 60

    /// Records a view now and returns when the visit before this one ended (nil: the first
    /// visit). A view within `visitGap` of the last one belongs to the same visit: it keeps the
    /// same "before", and writes only to keep the visit alive, at most once a minute — a page
    /// read is not a write transaction each time.
    public func recordVisit(userID: Int64) throws -> Int64? {
        let row = try db.queryOne("SELECT dashboard_visited_at, dashboard_previous_visit_at FROM users WHERE id = $1", [userID])
        let seen = try row?.get("dashboard_visited_at", as: Int64?.self)
        let before = try row?.get("dashboard_previous_visit_at", as: Int64?.self)
        let now = clock.now()
        guard let seen else {
            _ = try db.write { try db.execute("UPDATE users SET dashboard_visited_at = $1 WHERE id = $2", [now, userID]) }
            return nil
        }
        if now - seen >= Self.visitGap {
            _ = try db.write {
                try db.execute("UPDATE users SET dashboard_visited_at = $1, dashboard_previous_visit_at = $2 WHERE id = $3", [now, seen, userID])
            }
            return seen
        }
        if now - seen >= 60 {
            _ = try db.write { try db.execute("UPDATE users SET dashboard_visited_at = $1 WHERE id = $2", [now, userID]) }
        }
        return before
    }

    /// How many files the owner received after `since`, counted up to `cap` (a range of the
    /// owner's (user_id, created_at) index: the cost follows the new files, at most `cap`).
    public func filesReceived(userID: Int64, after since: Int64, cap: Int) throws -> Int {
        try db.scalar("""
            SELECT count(*) FROM (SELECT 1 FROM file_uploads WHERE user_id = $1 AND created_at > $2 LIMIT $3) AS recent
            """, [userID, since, cap], as: Int.self) ?? 0
    }

    /// How many of the owner's files failed delivery, up to `cap` (the (user_id, status) index).
    public func failedDeliveries(userID: Int64, cap: Int) throws -> Int {
        try db.scalar("""
            SELECT count(*) FROM (SELECT 1 FROM file_uploads WHERE user_id = $1 AND status = 'failed' LIMIT $2) AS failed
            """, [userID, cap], as: Int.self) ?? 0
    }
}
