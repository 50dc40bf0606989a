extension StorageAccountStore {
    /// Records that an account was used (a file stored, downloaded or deleted through it, a token
    /// refreshed): at most one write a minute per account, so a busy account does not turn every
    /// download into a write.
    public func recordAccess(id: Int64) throws {
        let now = clock.now()
        try db.execute("UPDATE storage_accounts SET last_accessed_at = $1 WHERE id = $2 AND (last_accessed_at IS NULL OR last_accessed_at < $3)",
                       [now, id, now - 60])
    }
}
