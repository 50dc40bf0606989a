extension StorageAccountStore {
    /// Records that an account was used (a file stored, downloaded or deleted through it, a token
    /// refreshed): at most one write a minute per account. The time is read first, because an
    /// UPDATE that matches no row still takes SQLite's write lock: a busy account's downloads
    /// stay reads. The UPDATE repeats the condition, so two requests at once write once.
    public func recordAccess(id: Int64) throws {
        let now = clock.now()
        let last = try db.scalar("SELECT last_accessed_at FROM storage_accounts WHERE id = $1", [id], as: Int64?.self) ?? nil
        guard (last ?? Int64.min) < now - 60 else { return }
        try db.execute("UPDATE storage_accounts SET last_accessed_at = $1 WHERE id = $2 AND (last_accessed_at IS NULL OR last_accessed_at < $3)",
                       [now, id, now - 60])
    }
}
