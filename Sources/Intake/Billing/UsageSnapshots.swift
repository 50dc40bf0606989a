import Database

/// One user's storage on one UTC day: the bytes stored and the effective quota when the
/// snapshot was taken.
public struct UsageSnapshot: Sendable, Equatable {
    /// Days since 1970-01-01 (UTC).
    public let day: Int64
    public let bytes: Int64
    public let quotaBytes: Int64

    public init(day: Int64, bytes: Int64, quotaBytes: Int64) {
        self.day = day
        self.bytes = bytes
        self.quotaBytes = quotaBytes
    }
}

/// Storage cost tracking: one row per user per UTC day in `usage_snapshots`, copied from the
/// maintained counters `users.storage_used_bytes` and `users.quota_bytes` by the jobs runner, and
/// read back as a user's series (the admin chart) and as GB-days (the statement and the admin
/// report). A GB-day is one decimal GB (10⁹ bytes, as the pricing sells it) stored for one day;
/// a day's snapshot counts for the whole day.
public struct UsageSnapshots {
    let db: Database
    let clock: EpochClock

    public init(db: Database, clock: EpochClock) {
        self.db = db
        self.clock = clock
    }

    /// Bytes in a GB, as the pricing sells them.
    public static let bytesPerGB = Double(StoragePurchases.bytesPerGB)

    /// Users per write transaction: the write lock is held for one batch at a time, so uploads
    /// reserving quota wait a few milliseconds, not for the whole table.
    public static let defaultBatchSize: Int64 = 10_000

    /// The UTC day (days since 1970-01-01) of an epoch second.
    public static func day(of epoch: Int64) -> Int64 { CivilDate(epoch: epoch).days }

    /// Today's snapshot of every user, from the counters as they are now. Idempotent: a user who
    /// already has today's row keeps it (`ON CONFLICT DO NOTHING` on the primary key), so a second
    /// run the same day, or two runners at once, write nothing more. Users are copied by windows of
    /// ids, one `INSERT … SELECT` per window. Returns the rows written.
    @discardableResult
    public func takeDaily(batchSize: Int64 = UsageSnapshots.defaultBatchSize) throws -> Int {
        precondition(batchSize > 0)
        let today = Self.day(of: clock.now())
        guard let last = try db.scalar("SELECT max(id) FROM users", as: Int64?.self) ?? nil else { return 0 }
        var written = 0
        var from: Int64 = 0
        while from <= last {
            let to = from + batchSize
            written += try db.write {
                try db.execute(SQL.takeDay, [today, from, to])
            }
            from = to
        }
        if written > 0 {
            _ = try db.write { try db.execute(SQL.dayTotal, [today]) }
        }
        return written
    }

    /// The user's snapshots of the last `days` days up to today, oldest first (days without a
    /// snapshot are simply absent).
    public func series(userID: Int64, days: Int) throws -> [UsageSnapshot] {
        let today = Self.day(of: clock.now())
        return try db.query(SQL.series, [userID, today - Int64(days), today]).map { row in
                UsageSnapshot(day: try row.get("day"), bytes: try row.get("bytes"), quotaBytes: try row.get("quota_bytes"))
            }
    }

    /// The user's GB-days from `monthStart` (inclusive) to `monthEnd` (exclusive), epoch seconds
    /// at UTC midnights: the sum of their days' bytes over 10⁹.
    public func gbDays(userID: Int64, monthStart: Int64, monthEnd: Int64) throws -> Double {
        let byteDays = try db.scalar(SQL.userByteDays, [userID, Self.day(of: monthStart), Self.day(of: monthEnd)], as: Int64.self) ?? 0
        return Double(byteDays) / Self.bytesPerGB
    }

    /// Every user's bytes per day from `fromDay` (inclusive) to `toDay` (exclusive), from the
    /// maintained `usage_daily_totals`: one row per day, not per user.
    public func dailyTotals(fromDay: Int64, toDay: Int64) throws -> [(day: Int64, bytes: Int64)] {
        try db.query(SQL.dailyTotals, [fromDay, toDay]).map { (try $0.get("day"), try $0.get("bytes")) }
    }

    /// The statements, named so a test can ask the planner how it runs them.
    enum SQL {
        /// `WHERE` is required: without it SQLite would read `ON CONFLICT` as a join constraint.
        static let takeDay = """
            INSERT INTO usage_snapshots (user_id, day, bytes, quota_bytes)
            SELECT id, $1, storage_used_bytes, quota_bytes FROM users WHERE id >= $2 AND id < $3
            ON CONFLICT (user_id, day) DO NOTHING
            """
        /// By the primary key (user_id, day).
        static let series = "SELECT day, bytes, quota_bytes FROM usage_snapshots WHERE user_id = $1 AND day > $2 AND day <= $3 ORDER BY day"
        /// By the primary key (user_id, day).
        static let userByteDays = "SELECT coalesce(sum(bytes), 0) FROM usage_snapshots WHERE user_id = $1 AND day >= $2 AND day < $3"
        /// Today's total, summed again (by `usage_snapshots_day`) whenever rows were added to it.
        static let dayTotal = """
            INSERT INTO usage_daily_totals (day, users, bytes) SELECT $1, count(*), coalesce(sum(bytes), 0) FROM usage_snapshots WHERE day = $1
            ON CONFLICT (day) DO UPDATE SET users = excluded.users, bytes = excluded.bytes
            """
        /// By the primary key of `usage_daily_totals`: one row a day, whatever the number of users.
        static let dailyTotals = "SELECT day, bytes FROM usage_daily_totals WHERE day >= $1 AND day < $2 ORDER BY day"
    }

    /// GB-days of all users for each of `months` (a month with no snapshot is 0).
    public func gbDaysByMonth(_ months: [BillingMonth]) throws -> [BillingMonth: Double] {
        var result = Dictionary(uniqueKeysWithValues: months.map { ($0, 0.0) })
        guard let first = months.min(), let last = months.max() else { return result }
        for total in try dailyTotals(fromDay: first.firstDay, toDay: last.endDay) {
            let month = BillingMonth(containingDay: total.day)
            if result[month] != nil { result[month]! += Double(total.bytes) / Self.bytesPerGB }
        }
        return result
    }
}
