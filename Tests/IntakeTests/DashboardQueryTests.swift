import Database
import Testing
import TestSupport
@testable import Intake

/// The owner's dashboard at scale: what it reads, read through indexes and bounded, so it costs
/// the same for an owner with a million files; and its figures right.
extension FileListTests {
    @Test("the dashboard reads every figure through an index, never a whole table or a sort, before and after the planner has statistics", .enabled(if: !TestDatabases.onPostgreSQL, "reads SQLite's query plans"))
    func dashboardQueryPlans() throws {
        try withDatabase { base in
            let s = try seed(base, count: 3_000)
            for analyzed in [false, true] {
                if analyzed { try base.executeScript("ANALYZE") }
                let db = PlanRecordingDatabase(base)
                let clock = ManualClock()
                let dashboard = OwnerDashboard(db: db, clock: clock)
                _ = try dashboard.recordVisit(userID: s.owner)
                let before = db.plans.withLock { $0.count }
                _ = try dashboard.filesReceived(userID: s.owner, after: 1_700_000_000 + 200 * 3600, cap: 1000)
                let newPlan = db.plans.withLock { $0[before...].flatMap(\.plan) }.joined(separator: " | ")
                #expect(newPlan.contains("USING COVERING INDEX file_uploads_user (user_id=? AND created_at>?)")
                        || newPlan.contains("USING INDEX file_uploads_user (user_id=? AND created_at>?)"), "analyzed: \(analyzed): \(newPlan)")
                let middle = db.plans.withLock { $0.count }
                _ = try dashboard.failedDeliveries(userID: s.owner, cap: 1000)
                let failedPlan = db.plans.withLock { $0[middle...].flatMap(\.plan) }.joined(separator: " | ")
                #expect(failedPlan.contains("INDEX file_uploads_user_status (user_id=? AND status=?)"), "analyzed: \(analyzed): \(failedPlan)")
                _ = try FileStore(db: db, clock: clock).list(userID: s.owner, filter: FileStore.Filter(), after: nil, limit: 40)
                _ = try PortalStore(db: db, clock: clock).list(userID: s.owner)
                _ = try StorageAccountStore(db: db, clock: clock).list(userID: s.owner)
                _ = try QuotaStore(db: db, clock: clock).quota(userID: s.owner)
                // An owner's storage accounts are the few they connected, sorted in memory; the
                // tables that grow with use are read only through their indexes.
                let costly = db.costlyPlans(tables: ["f", "file_uploads", "p", "portals", "u", "users", "storage_accounts"])
                    .filter { !$0.hasPrefix("SEARCH storage_accounts USING INDEX sqlite_autoindex_storage_accounts_1 (user_id=?) | USE TEMP B-TREE FOR ORDER BY") }
                #expect(costly.isEmpty, "analyzed: \(analyzed)\n\(costly.joined(separator: "\n"))")
                #expect(db.plans.withLock { $0.count } >= 7)
            }
        }
    }

    @Test("new since the last visit: the previous visit comes back, the files after it are counted up to the cap, the failed ones too")
    func dashboardFigures() throws {
        try withDatabase { db in
            let s = try seed(db, count: 1_500)
            let clock = ManualClock(1_800_000_000)
            let dashboard = OwnerDashboard(db: db, clock: clock)
            #expect(try dashboard.recordVisit(userID: s.owner) == nil)
            clock.advance(60)
            #expect(try dashboard.recordVisit(userID: s.owner) == nil, "a reload within the visit: still the first visit")
            clock.advance(OwnerDashboard.visitGap)
            #expect(try dashboard.recordVisit(userID: s.owner) == 1_800_000_060, "a new visit: the one before ended at its last view")
            clock.advance(10)
            #expect(try dashboard.recordVisit(userID: s.owner) == 1_800_000_060, "a reload keeps the same 'before'")
            let seen = try db.scalar("SELECT dashboard_visited_at FROM users WHERE id = $1", [s.owner], as: Int64.self)
            #expect(seen == 1_800_000_060 + OwnerDashboard.visitGap, "a view ten seconds later writes nothing")
            #expect(try dashboard.recordVisit(userID: s.other) == nil, "each owner has their own visits")
            let since: Int64 = 1_700_000_000 + 150 * 3600
            let slow = try db.scalar("SELECT count(*) FROM file_uploads WHERE user_id = $1 AND created_at > $2", [s.owner, since], as: Int.self)!
            #expect(slow > 100)
            #expect(try dashboard.filesReceived(userID: s.owner, after: since, cap: 10_000) == slow)
            #expect(try dashboard.filesReceived(userID: s.owner, after: since, cap: 100) == 100)
            let failed = try db.scalar("SELECT count(*) FROM file_uploads WHERE user_id = $1 AND status = 'failed'", [s.owner], as: Int.self)!
            let counted = try dashboard.failedDeliveries(userID: s.owner, cap: 10_000)
            #expect(failed > 0 && counted == failed)
        }
    }
}
