import Database
import Foundation
import Synchronization
import Testing
import TestSupport
@testable import Intake

/// A database that asks SQLite how it will run every query before running it, and keeps the
/// answers: the plans of exactly the SQL the stores send.
final class PlanRecordingDatabase: Database {
    let base: any Database
    let plans = Mutex<[(sql: String, plan: [String])]>([])
    init(_ base: any Database) { self.base = base }

    var dialect: SQLDialect { base.dialect }
    var location: DatabaseLocation { base.location }
    func execute(_ sql: String, _ arguments: [any DatabaseValueConvertible]) throws -> Int { try base.execute(sql, arguments) }
    func query(_ sql: String, _ arguments: [any DatabaseValueConvertible]) throws -> [Row] {
        if base.dialect == .sqlite {  // (PostgreSQL's plans are another language; its lists are measured by scripts/bench)
            let plan = try base.query("EXPLAIN QUERY PLAN " + sql, arguments).map { try $0.get("detail", as: String.self) }
            plans.withLock { $0.append((sql, plan)) }
        }
        return try base.query(sql, arguments)
    }
    func executeScript(_ sql: String) throws { try base.executeScript(sql) }
    func write<T>(_ body: () throws -> T) throws -> T { try base.write(body) }
    func read<T>(_ body: () throws -> T) throws -> T { try base.read(body) }
    func updatePlannerStatistics() throws { try base.updatePlannerStatistics() }

    /// The recorded plans that read a whole table (`SCAN f`, `SCAN file_uploads USING … INDEX`)
    /// of the tables that grow with use, or sort rows in a temporary b-tree when the rows do not
    /// come from a text filter's index (whose matches are what a search costs).
    func costlyPlans(tables: [String]) -> [String] {
        plans.withLock { recorded in
            recorded.compactMap { sql, plan in
                let scans = plan.filter { line in
                    tables.contains { line == "SCAN \($0)" || line.hasPrefix("SCAN \($0) ") }
                }
                let sorts = plan.contains { $0.hasPrefix("USE TEMP B-TREE FOR ORDER BY") }
                    && !plan.contains { $0.contains("file_search VIRTUAL TABLE") || $0.contains("INDEX file_uploads_client_name") }
                return scans.isEmpty && !sorts ? nil : "\(plan.joined(separator: " | ")) ← \(sql)"
            }
        }
    }
}

@Suite("The files list at scale")
struct FileListTests {
    let actor = AuditLog.Actor(userID: nil, remoteAddress: "test")

    struct Seeded {
        let owner: Int64
        let other: Int64
        let portals: [Int64]
        let accounts: [Int64]
    }

    static let words = ["invoice", "contract", "passport", "scan", "photo", "report", "Straße", "ÉTÉ", "50%_off", #"say "hi""#]
    static let clients = ["Ada Lovelace", "Alan Turing", "Grace Hopper", "adam smith", nil]

    /// Two owners: the first with `count` files over two portals and two storage accounts, many of
    /// them sharing a second (so the cursor must tell ties apart); the second with a few, so
    /// every list must keep to its owner.
    func seed(_ db: Database, count: Int, seed: UInt64 = 7) throws -> Seeded {
        let clock = ManualClock()
        let users = UserStore(db: db, clock: clock)
        let owner = try users.create(email: "o@example.com", name: "O", password: "long enough pw", role: .user).id
        let other = try users.create(email: "x@example.com", name: "X", password: "long enough pw", role: .user).id
        var portals: [Int64] = [], accounts: [Int64] = []
        for (user, n) in [(owner, 2), (other, 1)] {
            for k in 0..<n {
                let account = try StorageAccountStore(db: db, clock: clock).createOrGet(
                    userID: user, provider: .local, providerAccountID: "local-\(k)", email: nil, displayName: "Disk \(k)", by: actor).account.id
                let portal = try db.scalar("""
                    INSERT INTO portals (user_id, name, slug, storage_account_id, created_at, updated_at) VALUES ($1, $2, $2, $3, 0, 0) RETURNING id
                    """, [user, "p-\(user)-\(k)", account], as: Int64.self)!
                if user == owner { portals.append(portal); accounts.append(account) }
            }
        }
        let otherPortal = try db.scalar("SELECT id FROM portals WHERE user_id = $1", [other], as: Int64.self)!
        var random = SeededGenerator(seed: seed)
        try db.write {
            for i in 0..<count {
                let mine = i % 10 != 9
                let k = Int.random(in: 0..<2, using: &random)
                let client = Self.clients.randomElement(using: &random)!
                let word = Self.words.randomElement(using: &random)!
                try db.execute("""
                    INSERT INTO file_uploads (portal_id, user_id, storage_account_id, file_name, size_bytes, client_name, client_email,
                                              status, created_at, updated_at)
                    VALUES ($1, $2, (SELECT storage_account_id FROM portals WHERE id = $1), $3, $4, $5, $6, $7, $8, $8)
                    """, [mine ? portals[k] : otherPortal, mine ? owner : other, "\(word)-\(i).pdf", Int64(i * 10),
                          client, client.map { $0.split(separator: " ")[0].lowercased() + "@clients.example" },
                          ["uploaded", "uploaded", "uploaded", "delivering", "failed"].randomElement(using: &random)!,
                          Int64(1_700_000_000 + (i / 7) * 3600)])
            }
        }
        return Seeded(owner: owner, other: other, portals: portals, accounts: accounts)
    }

    /// The filters a user can set, one at a time and together, with texts short and long.
    func filters(_ s: Seeded) -> [FileStore.Filter] {
        var all: [FileStore.Filter] = [FileStore.Filter()]
        func with(_ change: (inout FileStore.Filter) -> Void) { var f = FileStore.Filter(); change(&f); all.append(f) }
        with { $0.portalID = s.portals[1] }
        with { $0.accountID = s.accounts[0] }
        with { $0.status = "failed" }
        with { $0.from = 1_700_000_000 + 100 * 3600; $0.to = 1_700_000_000 + 300 * 3600 }
        with { $0.client = "Ad" }
        with { $0.client = "ada" }
        with { $0.client = "grace@cl" }
        with { $0.search = "po" }
        with { $0.search = "PASSPORT" }
        with { $0.search = "straße" }
        with { $0.search = "été" }
        with { $0.search = "50%_" }
        with { $0.search = #""hi""# }
        with { $0.search = "report-1" }
        with { $0.search = "ort"; $0.client = "alan"; $0.status = "uploaded" }
        with { $0.portalID = s.portals[0]; $0.status = "delivering"; $0.from = 1_700_000_000 + 50 * 3600 }
        with { $0.accountID = s.accounts[1]; $0.search = "scan" }
        with { $0.search = #"x" OR file_name : "a"#; }
        with { $0.search = "NEAR(a b)" }
        return all
    }

    /// What the list must return, computed the slow way: every row of the owner, filtered in
    /// Swift with LIKE's rules (ASCII letters fold, nothing else), newest first.
    func expected(_ db: Database, owner: Int64, _ f: FileStore.Filter) throws -> [Int64] {
        func fold(_ s: String) -> String { String(s.unicodeScalars.map { $0.isASCII ? Character($0).lowercased() : String($0) }.joined()) }
        return try db.query("SELECT * FROM file_uploads WHERE user_id = $1 ORDER BY created_at DESC, id DESC", [owner]).filter { row in
            let name: String = try row.get("file_name"), client: String? = try row.get("client_name"), email: String? = try row.get("client_email")
            if let v = f.portalID, try row.get("portal_id", as: Int64.self) != v { return false }
            if let v = f.accountID, try row.get("storage_account_id", as: Int64.self) != v { return false }
            if let v = f.status, try row.get("status", as: String.self) != v { return false }
            let created: Int64 = try row.get("created_at")
            if let v = f.from, created < v { return false }
            if let v = f.to, created >= v { return false }
            if let v = f.client, !v.isEmpty, ![client, email].contains(where: { $0.map { fold($0).hasPrefix(fold(v)) } ?? false }) { return false }
            // PostgreSQL's ILIKE folds every letter's case, SQLite's LIKE ASCII letters only.
            let foldName = db.dialect == .postgresql ? { (s: String) in s.lowercased() } : fold
            if let v = f.search, !v.isEmpty, !foldName(name).contains(foldName(v)) { return false }
            return true
        }.map { try $0.get("id") }
    }

    @Test("every filter, paged 7 at a time through the cursor, returns exactly the owner's matching files, newest first")
    func pagingAndFilters() throws {
        try withDatabase { db in
            let s = try seed(db, count: 1_500)
            var store = FileStore(db: db, clock: ManualClock())
            // The search through the index at once, after the newest 20 files (a page of 7 found
            // among them or not), and by reading every file in order.
            for (filter, window) in [0, 20, 5_000].flatMap({ window in filters(s).map { ($0, window) } }) {
                store.searchWindow = window
                store.searchCandidates = window == 20 ? 3 : 2_000
                var got: [Int64] = [], cursor: PageCursor?
                repeat {
                    let page = try store.list(userID: s.owner, filter: filter, after: cursor.flatMap { PageCursor($0.description) }, limit: 7)
                    #expect(page.files.count <= 7)
                    #expect(page.files.allSatisfy { $0.userID == s.owner })
                    got += page.files.map(\.id)
                    cursor = page.next
                } while cursor != nil
                let want = try expected(db, owner: s.owner, filter)
                #expect(got == want, "window \(window), filter \(filter): \(got.count) listed, \(want.count) expected")
            }
            let everything = try expected(db, owner: s.owner, FileStore.Filter())
            #expect(everything.count == 1_350)
        }
    }

    @Test("every list and count on the files pages is read through an index in its order, before and after the planner has statistics", .enabled(if: !TestDatabases.onPostgreSQL, "reads SQLite's query plans"))
    func queryPlans() throws {
        try withDatabase { base in
            let s = try seed(base, count: 3_000)
            // Portals of other owners too, so that statistics show the table as what it becomes.
            try base.execute("""
                WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500)
                INSERT INTO portals (user_id, name, slug, created_at, updated_at) SELECT $1, 'x' || i, 'x-' || i, 0, 0 FROM n
                """, [s.other])
            let audit = AuditLog(db: base, clock: ManualClock())
            for i in 0..<400 {
                try audit.record(AuditLog.Actor(userID: i % 2 == 0 ? s.owner : s.other, remoteAddress: "test"),
                                 action: i % 3 == 0 ? "portal.update" : "file_upload.delete", entityType: i % 3 == 0 ? "portal" : "file_upload",
                                 entityID: String(i))
            }
            for analyzed in [false, true] {
                if analyzed { try base.executeScript("ANALYZE") }
                let db = PlanRecordingDatabase(base)
                var store = FileStore(db: db, clock: ManualClock())
                for (filter, viaIndex) in filters(s).map({ ($0, false) }) + filters(s).map({ ($0, true) }) {
                    store.searchWindow = viaIndex ? 0 : 5_000
                    store.searchCandidates = viaIndex ? 2_000 : -1
                    let before = db.plans.withLock { $0.count }
                    let first = try store.list(userID: s.owner, filter: filter, after: nil, limit: 5)
                    if let next = first.next { _ = try store.list(userID: s.owner, filter: filter, after: next, limit: 5) }
                    // The index that leads is the one of the most selective filter set.
                    let plan = db.plans.withLock { $0[before...].flatMap(\.plan) }.joined(separator: " | ")
                    let leading = viaIndex && (filter.search?.unicodeScalars.count ?? 0) >= 3 ? "file_search VIRTUAL TABLE"
                        : filter.client?.isEmpty == false ? "INDEX file_uploads_client_name" : filter.portalID != nil ? "INDEX file_uploads_portal"
                        : filter.accountID != nil ? "INDEX file_uploads_account" : filter.status != nil ? "INDEX file_uploads_user_status"
                        : "INDEX file_uploads_user "
                    #expect(plan.contains(leading), "analyzed: \(analyzed), \(filter): \(plan)")
                }
                _ = try PortalStore(db: db, clock: ManualClock()).list(userID: s.owner)
                _ = try SiteTotals(db: db).figures()
                _ = try UserStore(db: db, clock: ManualClock()).counts()
                let audit = AuditLog(db: db, clock: ManualClock())
                for (action, entity, actor) in [("file_upload.delete", nil, nil), (nil, "portal", nil), (nil, nil, "o@"), (nil, nil, "o@example.com"),
                                                ("file_upload.delete", nil, "o@")] as [(String?, String?, String?)] {
                    let first = try audit.entries(action: action, entityType: entity, actor: actor, before: nil, limit: 5)
                    #expect(first.more, "\(action ?? "") \(entity ?? "") \(actor ?? "")")
                    _ = try audit.entries(action: action, entityType: entity, actor: actor, before: first.entries.last?.id, limit: 5)
                }
                // The owner's diagnosis as the admin's portal check makes it (offline, no counters recomputed).
                let owner = try #require(try UserStore(db: base, clock: ManualClock()).find(id: s.owner))
                _ = try StorageDiagnostics(db: db, clock: ManualClock()).diagnose(user: owner, grants: nil, counters: false)
                let costly = db.costlyPlans(tables: ["f", "file_uploads", "p", "portals", "users", "a", "audit_log"])
                #expect(costly.isEmpty, "analyzed: \(analyzed)\n\(costly.joined(separator: "\n"))")
                // The diagnostics overview reads files only through indexes too (it reads the
                // portals table to find stalled portals: portals, not files, are what it costs).
                // Files only through the status index: the failed ones (sorted, and as many as the
                // failed-delivery retention keeps) and the waiting ones, never the delivered.
                let overview = PlanRecordingDatabase(base)
                _ = try SiteDiagnostics(db: overview, clock: ManualClock()).overview()
                let fileReads = overview.plans.withLock { $0 }.filter { $0.sql.contains("FROM file_uploads") }
                #expect(fileReads.count >= 2)
                for read in fileReads {
                    #expect(read.plan.contains { $0.hasPrefix("SEARCH f USING INDEX file_uploads_status (status=?)") || $0.hasPrefix("SEARCH file_uploads USING INDEX file_uploads_status (status=?)") }
                            && !read.plan.contains { $0.hasPrefix("SCAN f") || $0.hasPrefix("SCAN file_uploads") },
                            "analyzed: \(analyzed)\n\(read.plan.joined(separator: " | ")) ← \(read.sql)")
                }
                #expect(db.plans.withLock { $0.count } >= filters(s).count)
            }
        }
    }

    @Test("an installation whose planner had statistics before the new indexes still reads an owner's files through the owner's index", .enabled(if: !TestDatabases.onPostgreSQL, "reads SQLite's query plans"))
    func statisticsBeforeTheMigration() throws {
        try withTemporaryDatabase(migratedBy: Migrator(Schema.migrations.filter { $0.version <= 24 })) { db in
            try db.executeScript("""
                INSERT INTO users (id, email, email_normalized, name, password_hash, role, created_at, updated_at)
                    VALUES (1, 'a@example.com', 'a@example.com', 'A', 'x', 'user', 0, 0), (2, 'b@example.com', 'b@example.com', 'B', 'x', 'user', 0, 0);
                INSERT INTO portals (id, user_id, name, slug, created_at, updated_at) VALUES (1, 1, 'P', 'p', 0, 0), (2, 2, 'Q', 'q', 0, 0);
                WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 4000)
                INSERT INTO file_uploads (portal_id, user_id, file_name, size_bytes, client_name, client_email, status, created_at, updated_at)
                SELECT 1 + i % 2, 1 + i % 2, 'f' || i, 1, 'C' || (i % 40), 'c' || (i % 40) || '@x.example', 'uploaded', i, i FROM n;
                ANALYZE;
                """)
            try Schema.migrator.migrate(db, now: "test")
            let recording = PlanRecordingDatabase(db)
            _ = try FileStore(db: recording, clock: ManualClock()).list(userID: 1, filter: FileStore.Filter(), after: nil, limit: 50)
            let plan = recording.plans.withLock { $0.flatMap(\.plan) }.joined(separator: " | ")
            #expect(plan.contains("INDEX file_uploads_user ") && !plan.contains("TEMP B-TREE"), "\(plan)")
        }
    }

    @Test("cursors are read back only in the form the lists write")
    func cursors() {
        #expect(PageCursor("1700000000.42") == PageCursor(value: "1700000000", id: 42))
        #expect(PageCursor("1700000000.42")?.integer == 1_700_000_000)
        #expect(PageCursor(PageCursor(value: "-5", id: 9).description) == PageCursor(value: "-5", id: 9))
        #expect(PageCursor("0.25.7") == PageCursor(value: "0.25", id: 7), "a ratio keeps its dot")
        for bad in ["", "42", "a.", "1.", "1.0", "1.-3", "1 .x", "1.99999999999999999999"] {
            #expect(PageCursor(bad) == nil, "\(bad)")
        }
        #expect(PageCursor("a.1")?.integer == nil && PageCursor(".1")?.integer == nil)
    }

    @Test("uploaded counts per portal and storage account and the site's totals per status equal a recount after inserts, status changes, moves and deletes")
    func maintainedCounts() throws {
        try withDatabase { db in
            let s = try seed(db, count: 600, seed: 11)
            var random = SeededGenerator(seed: 3)
            let store = FileStore(db: db, clock: ManualClock(), liveness: FakeProcesses())
            var names: [Int64: String] = [:], owners: [Int64: Int64] = [:]
            for row in try db.query("SELECT id, user_id, file_name FROM file_uploads") {
                names[try row.get("id")] = try row.get("file_name")
                owners[try row.get("id")] = try row.get("user_id")
            }
            let ids = names.keys.sorted()
            for id in ids.shuffled(using: &random).prefix(200) {
                switch Int.random(in: 0..<4, using: &random) {
                case 0: try db.execute("UPDATE file_uploads SET status = 'uploaded', size_bytes = size_bytes + 5 WHERE id = $1", [id])
                case 1: try db.execute("UPDATE file_uploads SET status = 'failed' WHERE id = $1", [id])
                case 2: try db.execute("UPDATE file_uploads SET next_attempt_at = 5, lease_holder = 'x' WHERE id = $1", [id])
                default: _ = try store.removeRecord(id, actor: actor, action: "file_upload.delete")
                }
            }
            try db.execute("UPDATE file_uploads SET storage_account_id = $1 WHERE storage_account_id IS NULL", [s.accounts[0]])
            #expect(try db.query("""
                SELECT p.id FROM portals p
                WHERE p.uploaded_files != (SELECT count(*) FROM file_uploads f WHERE f.portal_id = p.id AND f.status = 'uploaded')
                """).isEmpty)
            #expect(try db.query("""
                SELECT a.id FROM storage_accounts a
                WHERE a.uploaded_files != (SELECT count(*) FROM file_uploads f WHERE f.storage_account_id = a.id AND f.status = 'uploaded')
                   OR a.uploaded_bytes != (SELECT coalesce(sum(size_bytes), 0) FROM file_uploads f WHERE f.storage_account_id = a.id AND f.status = 'uploaded')
                """).isEmpty)
            try db.execute("UPDATE users SET role = 'admin', disabled = 1 WHERE id = $1", [s.other])
            try db.execute("DELETE FROM portals WHERE id NOT IN (SELECT portal_id FROM file_uploads)")
            let counts = try UserStore(db: db, clock: ManualClock()).counts()
            #expect(counts.total == 2 && counts.admins == 1 && counts.disabled == 1)
            let totals = try SiteTotals(db: db).figures()
            #expect(totals.portals == (try db.scalar("SELECT count(*) FROM portals", as: Int.self)))
            #expect(Int64(totals.files) == (try db.scalar("SELECT count(*) FROM file_uploads WHERE status = 'uploaded'", as: Int64.self)))
            #expect(totals.bytes == (try db.scalar("SELECT sum(size_bytes) FROM file_uploads WHERE status = 'uploaded'", as: Int64.self)))
            #expect(totals.failedDeliveries == (try db.scalar("SELECT count(*) FROM file_uploads WHERE status = 'failed'", as: Int64.self)))
            #expect(totals.delivering == (try db.scalar("SELECT count(*) FROM file_uploads WHERE status = 'delivering'", as: Int64.self)))
            // The search index follows every change (SQLite: FTS5 compares it with the table row
            // by row; PostgreSQL's trigram index is an ordinary index), and a removed file's name
            // is not found.
            if db.dialect == .sqlite { try db.execute("INSERT INTO file_search (file_search) VALUES ('integrity-check')") }
            let left = Set(try db.query("SELECT id FROM file_uploads").map { try $0.get("id", as: Int64.self) })
            let gone = ids.first { !left.contains($0) }!
            func found(_ id: Int64) throws -> [Int64] {
                var filter = FileStore.Filter()
                filter.search = names[id]!
                let search = FileSearch(filter, userID: owners[id]!, db.dialect)
                // SQLite: the ids in the index itself (a stale entry would name a removed row).
                let sql = db.dialect == .sqlite ? "SELECT rowid AS id FROM file_search WHERE file_search MATCH $1"
                    : "SELECT f.id FROM file_uploads f WHERE \(search.condition(parameter: 1))"
                return try db.query(sql, [search.match!]).map { try $0.get("id") }
            }
            // (The index's answer is a superset of the names holding the text: the list's LIKE keeps exactly those.)
            #expect(try !found(gone).contains(gone))
            #expect(try found(left.min()!).contains(left.min()!))
            #expect(try found(left.max()!).contains(left.max()!))
            // Another owner's words find none of this owner's files, however alike the names.
            if db.dialect == .sqlite, let theirs = left.first(where: { owners[$0] != owners[left.min()!] }) {
                var filter = FileStore.Filter()
                filter.search = names[left.min()!]!
                let search = FileSearch(filter, userID: owners[theirs]!, db.dialect)
                let ids = try db.query("SELECT rowid AS id FROM file_search WHERE file_search MATCH $1", [search.match!]).map { try $0.get("id", as: Int64.self) }
                #expect(ids.allSatisfy { owners[$0] == owners[theirs] })
            }
        }
    }

    @Test("the trigrams asked of the index hold every character of the text, each once where they can, the last one overlapping",
          arguments: [("passport-123", ["pas", "spo", "rt-", "123"]), ("abcd", ["abc", "bcd"]), ("abc", ["abc"]), ("ab", []),
                      ("straße", ["str", "aße"]), ("été", ["été"]), ("a\"b\"cd", ["a\"b", "\"cd"]), ("👍🏽x", ["👍🏽x"])])
    func searchCover(text: String, trigrams: [String]) {
        #expect(FileSearch.cover(text) == trigrams)
    }
}
