import Database

/// The counts the schema's triggers keep from the file rows — each portal's and storage
/// account's delivered files and bytes and the site's totals by status (migration 25), the
/// storage analytics' rollups (migration 36), SQLite's file-name index (migration 39) — and each
/// owner's usage, compared with the rows and rebuilt from them in one write transaction. For
/// rows written without the triggers: a bulk import (`scripts/lib/seed_files.py` seeds a million
/// files that way for the benchmarks), a hand edit, a restore of some tables; `intake recount`.
/// A database the triggers kept compares equal and comes out the same (`KeptCountsTests`).
///
/// Each rebuild is the backfill its migration ran, so the triggers and the rebuild cannot read a
/// row two ways; writers wait for the transaction, and the triggers carry on from its result.
public struct KeptCounts {
    let db: Database
    let clock: EpochClock

    public init(db: Database, clock: EpochClock) {
        self.db = db
        self.clock = clock
    }

    /// A kind of kept count and how many of its rows disagreed with the file rows.
    public struct Difference: Encodable, Sendable, Equatable {
        public let count: String
        public let rows: Int64
    }

    public struct Report: Encodable, Sendable, Equatable {
        /// What disagrees with the rows; nil after a rebuild, which compares nothing first (at a
        /// million files the comparison costs as much as the rollups' rebuild). The search index
        /// is never compared: FTS5 keeps no copy of what it indexed.
        public let differences: [Difference]?
        /// The files counted.
        public let files: Int64
        /// Whether the counts were rebuilt.
        public let rebuilt: Bool
    }

    /// Compares every kept count with the rows, changing nothing.
    public func check() throws -> Report {
        try withLargeCache {
            try db.read {
                if db.dialect == .postgresql { try db.executeScript("SET LOCAL statement_timeout = 0;") }
                return Report(differences: try differences(), files: try files(), rebuilt: false)
            }
        }
    }

    /// Rebuilds every kept count, audited as `counts.rebuilt` by `actor`. What was off is not
    /// worked out: `check` first says.
    public func rebuild(by actor: AuditLog.Actor) throws -> Report {
        try withLargeCache { try db.write {
            // The planner's statistics of the rows first: after a bulk import they describe the
            // table before it, and the plans they gave took ten times as long at 100,000 rows.
            // PostgreSQL's 30 s statement timeout is for requests: one statement here reads every file.
            try db.executeScript(db.dialect == .sqlite ? "PRAGMA analysis_limit = 1000;\nANALYZE file_uploads;"
                                 : "SET LOCAL statement_timeout = 0;\nANALYZE file_uploads;")
            try db.executeScript("DELETE FROM file_totals;\n" + Self.deliveredCounts)
            try db.executeScript("DELETE FROM upload_days;\nDELETE FROM upload_types;\nDELETE FROM upload_clients;\n"
                                 + AnalyticsSchema.add("file_uploads", db.dialect))
            if db.dialect == .sqlite {
                // PostgreSQL's pg_trgm index is an index of the table: nothing is kept apart.
                try db.executeScript("INSERT INTO file_search (file_search) VALUES ('delete-all');\n" + OwnerSearchSchema.fill)
            }
            // Usage decides quotas: each owner's corrected usage is audited as `intake reconcile` does.
            let audit = AuditLog(db: db, clock: clock)
            for row in try db.query("SELECT id, storage_used_bytes, \(Self.usage) AS actual FROM users WHERE storage_used_bytes <> \(Self.usage)") {
                let (id, recorded, actual): (Int64, Int64, Int64) = (try row.get("id"), try row.get("storage_used_bytes"), try row.get("actual"))
                try db.execute("UPDATE users SET storage_used_bytes = $1 WHERE id = $2", [actual, id])
                try audit.record(actor, action: "user.usage_recomputed", entityType: "user", entityID: String(id),
                                 before: [("storage_used_bytes", String(recorded))], after: [("storage_used_bytes", String(actual))])
            }
            let report = Report(differences: nil, files: try files(), rebuilt: true)
            try audit.record(actor, action: "counts.rebuilt", entityType: "site", entityID: nil, after: [("files", String(report.files))])
            return report
        } }
    }

    /// Runs `body` with a SQLite page cache of 256 MiB (the connection's, put back after): both
    /// read every file row's pages, and the 2 MiB cache spilled and read them again.
    private func withLargeCache<T>(_ body: () throws -> T) throws -> T {
        guard db.dialect == .sqlite, let before = try db.scalar("PRAGMA cache_size", as: Int64.self) else { return try body() }
        try db.execute("PRAGMA cache_size = -262144")
        defer { _ = try? db.execute("PRAGMA cache_size = \(before)") }
        return try body()
    }

    private func files() throws -> Int64 {
        try db.scalar("SELECT count(*) FROM file_uploads", as: Int64.self) ?? 0
    }

    /// Each kind of kept count whose rows disagree with the file rows, with how many rows do.
    /// A rollup row at zero is no difference: a deleted file leaves its rows at zero.
    private func differences() throws -> [Difference] {
        let rollups = AnalyticsSchema.grouped("file_uploads", db.dialect)
        func either(_ kept: String, _ rows: String) -> String {
            "SELECT (SELECT count(*) FROM (\(kept) EXCEPT \(rows)) a) + (SELECT count(*) FROM (\(rows) EXCEPT \(kept)) b)"
        }
        let delivered = "FROM file_uploads f WHERE f.status = 'uploaded' AND"
        let queries = [
            ("portals' delivered files", "SELECT count(*) FROM portals WHERE uploaded_files <> (SELECT count(*) \(delivered) f.portal_id = portals.id)"),
            ("storage accounts' delivered files and bytes", """
                SELECT count(*) FROM (SELECT s.uploaded_files, s.uploaded_bytes, \(Reconciliation.deliveredSums("s.id")) FROM storage_accounts s) t
                WHERE uploaded_files <> files OR uploaded_bytes <> bytes
                """),
            ("owners' usage", "SELECT count(*) FROM users WHERE storage_used_bytes <> \(Self.usage)"),
            ("the site's files by status", either("SELECT status, files, bytes FROM file_totals WHERE files <> 0 OR bytes <> 0",
                                                  "SELECT status, count(*), sum(size_bytes) FROM file_uploads GROUP BY status")),
            ("uploads by day", either("""
                SELECT user_id, portal_id, storage_account_id, day, uploads, bytes, failures FROM upload_days
                WHERE uploads <> 0 OR bytes <> 0 OR failures <> 0
                """, rollups.days)),
            ("stored files by type", either("""
                SELECT user_id, portal_id, storage_account_id, extension, files, bytes FROM upload_types WHERE files <> 0 OR bytes <> 0
                """, rollups.types)),
            ("stored files by client", either("SELECT scope, scope_id, client, files, bytes FROM upload_clients WHERE files <> 0 OR bytes <> 0",
                                              rollups.clients)),
        ]
        return try queries.compactMap { count, sql in
            let rows = try db.scalar(sql, as: Int64.self) ?? 0
            return rows == 0 ? nil : Difference(count: count, rows: rows)
        }
    }

    /// What an owner's files add up to (`users` as the outer row): their usage.
    static let usage = "(SELECT coalesce(sum(f.size_bytes), 0) FROM file_uploads f WHERE f.user_id = users.id)"

    /// Each portal's and storage account's delivered files (and the account's bytes), and the
    /// files and bytes by status site-wide (into an empty `file_totals`): migration 25's backfill.
    static let deliveredCounts = """
        UPDATE portals SET uploaded_files = (SELECT count(*) FROM file_uploads f WHERE f.portal_id = portals.id AND f.status = 'uploaded');
        UPDATE storage_accounts SET
            uploaded_files = (SELECT count(*) FROM file_uploads f WHERE f.storage_account_id = storage_accounts.id AND f.status = 'uploaded'),
            uploaded_bytes = (SELECT coalesce(sum(size_bytes), 0) FROM file_uploads f WHERE f.storage_account_id = storage_accounts.id AND f.status = 'uploaded');
        INSERT INTO file_totals (status, files, bytes) SELECT status, count(*), sum(size_bytes) FROM file_uploads GROUP BY status;
        """
}
