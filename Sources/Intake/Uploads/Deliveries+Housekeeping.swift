import Database
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The jobs' part of deliveries: failed files past their retention, and spool files nothing
/// refers to any more.
extension Deliveries {
    /// Retention: a failed file nobody retried or deleted within `seconds` goes with its bytes (and
    /// its usage); the owner was told when it failed.
    @discardableResult
    public func removeFailed(olderThan seconds: Int64) throws -> Int {
        let stale = try env.db.query("SELECT id FROM file_uploads WHERE status = 'failed' AND updated_at <= $1", [env.clock.now() - seconds])
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
        func old(_ path: String) -> Bool {
            var st = stat()
            return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG && Int64(st.st_mtim.tv_sec) < cutoff
        }
        for name in (try? FileManager.default.contentsOfDirectory(atPath: env.spoolDirectory)) ?? [] where name.hasSuffix(".spool") {
            let path = env.spoolDirectory + "/" + name
            if old(path) && unlink(path) == 0 { removed += 1 }
        }
        let deliveries = env.spoolDirectory + "/deliveries"
        for name in (try? FileManager.default.contentsOfDirectory(atPath: deliveries)) ?? [] {
            let path = deliveries + "/" + name
            if old(path), try env.db.scalar("SELECT count(*) FROM file_uploads WHERE spool_path = $1", [path], as: Int.self) == 0, unlink(path) == 0 {
                removed += 1
            }
        }
        return removed
    }
}
