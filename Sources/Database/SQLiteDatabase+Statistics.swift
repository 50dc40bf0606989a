extension SQLiteDatabase {
    /// `PRAGMA optimize`: SQLite analyzes the tables whose size has changed a lot since their
    /// last analysis (or that queries on this connection would have planned better with
    /// statistics), sampling at most `analysis_limit` rows of each index, so it costs
    /// milliseconds at a million rows.
    public func updatePlannerStatistics() throws {
        try executeScript("PRAGMA analysis_limit = 1000; PRAGMA optimize;")
    }
}
