import Database
import Spool

/// The jobs' part of deliveries: failed files past their retention, and spool files nothing
/// refers to any more.
extension Deliveries {
    /// Retention: a failed file nobody retried or deleted within `seconds` goes with its bytes (and
    /// its usage); the owner was told when it failed.
    @discardableResult
    public func removeFailed(olderThan seconds: Int64) throws -> Int {
        let stale = try env.db.query("SELECT id FROM file_uploads WHERE status = \(FileUploadStatus.failed.sql) AND updated_at <= $1", [env.clock.now() - seconds])
        for row in stale {
            try rollBack(try row.get("id", as: Int64.self), reason: "a failed delivery kept longer than the retention limit", remoteAddress: "")
        }
        return stale.count
    }

    /// Spool files nothing refers to: a request's spool left by a dead worker (older than a
    /// reservation can live), or a delivery spool whose row is gone.
    @discardableResult
    public func removeOrphanSpools(olderThan seconds: Int64 = QuotaReservations.lifetimeSeconds) throws -> Int {
        let cutoff = env.clock.now() - seconds
        var removed = 0
        for file in env.spool.entries(in: .requests) where file.name.hasSuffix(".spool") && file.modifiedAt < cutoff {
            if Spool.remove(file.path) { removed += 1 }
        }
        for file in env.spool.entries(in: .deliveries) where file.modifiedAt < cutoff {
            if try env.db.scalar("SELECT count(*) FROM file_uploads WHERE spool_path = $1", [file.path], as: Int.self) == 0, Spool.remove(file.path) {
                removed += 1
            }
        }
        return removed
    }
}
