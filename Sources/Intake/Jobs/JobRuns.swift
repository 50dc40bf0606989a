import Database

/// Each background job's last pass: when it ran, when it last succeeded, its last error and how
/// many passes in a row failed. Written once per pass, in one transaction.
public struct JobRuns {
    let db: Database
    let clock: EpochClock

    public init(db: Database, clock: EpochClock) {
        self.db = db
        self.clock = clock
    }

    public struct Run: Sendable, Equatable {
        public let name: String
        public let lastRunAt: Int64
        public let lastOKAt: Int64?
        public let lastFailedAt: Int64?
        public let lastError: String?
        public let failuresInARow: Int
        public let milliseconds: Int64

        public var failing: Bool { failuresInARow > 0 }
    }

    /// One pass's outcomes: each job's name, its error (nil when it succeeded) and how long it took.
    public func record(_ outcomes: [(job: String, error: String?, milliseconds: Int64)]) throws {
        let now = clock.now()
        try db.write {
            for outcome in outcomes {
                try db.execute("""
                    INSERT INTO job_runs (name, last_run_at, last_ok_at, last_failed_at, last_error, failures_in_a_row, milliseconds)
                    VALUES ($1, $2, CASE WHEN $3 IS NULL THEN $2 END, CASE WHEN $3 IS NOT NULL THEN $2 END, $3, CASE WHEN $3 IS NULL THEN 0 ELSE 1 END, $4)
                    ON CONFLICT (name) DO UPDATE SET last_run_at = excluded.last_run_at,
                        last_ok_at = coalesce(excluded.last_ok_at, job_runs.last_ok_at),
                        last_failed_at = coalesce(excluded.last_failed_at, job_runs.last_failed_at),
                        last_error = coalesce(excluded.last_error, job_runs.last_error),
                        failures_in_a_row = CASE WHEN excluded.last_error IS NULL THEN 0 ELSE job_runs.failures_in_a_row + 1 END,
                        milliseconds = excluded.milliseconds
                    """, [outcome.job, now, outcome.error.map { String($0.prefix(500)) }, outcome.milliseconds])
            }
        }
    }

    /// Every job's last pass, by name.
    public func all() throws -> [Run] {
        try db.query("SELECT * FROM job_runs ORDER BY name").map { row in
            Run(name: try row.get("name"), lastRunAt: try row.get("last_run_at"), lastOKAt: try row.get("last_ok_at"),
                lastFailedAt: try row.get("last_failed_at"), lastError: try row.get("last_error"),
                failuresInARow: try row.get("failures_in_a_row"), milliseconds: try row.get("milliseconds"))
        }
    }
}
