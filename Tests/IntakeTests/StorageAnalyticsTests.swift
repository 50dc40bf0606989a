import Database
import Foundation
import Testing
import TestSupport
@testable import Intake

@Suite("Storage analytics")
struct StorageAnalyticsTests {
    let actor = AuditLog.Actor(userID: nil, remoteAddress: "test")
    static let now: Int64 = 1_800_000_000
    static let names = ["Report.PDF", "photo.jpeg", "scan.final.png", "README", ".profile", "notes.", "movie.MKV", "a.tar.gz",
                        "weird.ex-e", "long.abcdefghijkl", "Straße.ÉTÉ", "plain.txt", "song.mp3", "x.zip"]
    static let clients: [(String?, String?)] = [("Ada Lovelace", "Ada@Clients.example"), ("Ada L.", "ada@clients.example "), ("Grace", nil),
                                                (nil, nil), ("  ", ""), (nil, "alan@clients.example"), ("Bob", "  ")]

    struct Seeded {
        let owner: Int64
        let other: Int64
        let portals: [Int64]
        let accounts: [Int64]
        let otherPortal: Int64
    }

    /// Two owners; the first with files over two portals and two storage accounts (and a third
    /// portal with no account yet), the second with some, every name and client form above,
    /// spread over 120 days so some fall outside the window.
    func seed(_ db: Database, count: Int, seed: UInt64) throws -> Seeded {
        // The owners, portals and accounts of the files list's tests, without their files.
        let base = try FileListTests().seed(db, count: 0)
        let (owner, other) = (base.owner, base.other)
        var portals = base.portals
        let accounts = base.accounts
        let otherPortal = try #require(try db.scalar("SELECT id FROM portals WHERE user_id = $1", [other], as: Int64.self))
        portals.append(try db.scalar("INSERT INTO portals (user_id, name, slug, created_at, updated_at) VALUES ($1, 'loose', 'loose', 0, 0) RETURNING id",
                                     [owner], as: Int64.self)!)
        var random = SeededGenerator(seed: seed)
        try db.write {
            for i in 0..<count {
                let mine = i % 5 != 4
                let portal = mine ? portals.randomElement(using: &random)! : otherPortal
                let (name, email) = Self.clients.randomElement(using: &random)!
                try db.execute("""
                    INSERT INTO file_uploads (portal_id, user_id, storage_account_id, file_name, size_bytes, client_name, client_email,
                                              status, created_at, updated_at)
                    VALUES ($1, $2, (SELECT storage_account_id FROM portals WHERE id = $1), $3, $4, $5, $6, $7, $8, $8)
                    """, [portal, mine ? owner : other, Self.names.randomElement(using: &random)!, Int64.random(in: 0...5_000, using: &random),
                          name, email, ["uploaded", "uploaded", "uploaded", "delivering", "failed"].randomElement(using: &random)!,
                          Self.now - Int64.random(in: 0..<(120 * 86400), using: &random)])
            }
        }
        return Seeded(owner: owner, other: other, portals: portals, accounts: accounts, otherPortal: otherPortal)
    }

    /// A file row as the recount reads it.
    struct File {
        let user: Int64, portal: Int64, account: Int64?, name: String, size: Int64, status: String, created: Int64
        let clientName: String?, clientEmail: String?

        /// The extension as the rollups key it, worked out apart from their SQL.
        var ext: String {
            guard let e = FileTypes.fileExtension(name), e.count <= 10, e.unicodeScalars.allSatisfy({ ("a"..."z").contains($0) || ("0"..."9").contains($0) })
            else { return "" }
            return e
        }

        var client: String {
            func trim(_ s: String?) -> String { String((s ?? "").drop { $0 == " " }.reversed().drop { $0 == " " }.reversed()) }
            let email = trim(clientEmail)
            return email.isEmpty ? trim(clientName) : email.lowercased()
        }
    }

    func files(_ db: Database) throws -> [File] {
        try db.query("SELECT user_id, portal_id, storage_account_id, file_name, size_bytes, status, created_at, client_name, client_email FROM file_uploads").map {
            File(user: try $0.get("user_id"), portal: try $0.get("portal_id"), account: try $0.get("storage_account_id"), name: try $0.get("file_name"),
                 size: try $0.get("size_bytes"), status: try $0.get("status"), created: try $0.get("created_at"),
                 clientName: try $0.get("client_name"), clientEmail: try $0.get("client_email"))
        }
    }

    /// The rollups, without their rows at zero, equal a recount of the file rows.
    func expectRollupsEqualRecount(_ db: Database, _ context: String) throws {
        let all = try files(db)
        var days: [String: [Int64]] = [:], types: [String: [Int64]] = [:], clients: [String: [Int64]] = [:]
        func add(_ map: inout [String: [Int64]], _ key: String, _ values: [Int64]) {
            map[key] = zip(map[key] ?? Array(repeating: 0, count: values.count), values).map { $0 + $1 }
        }
        for f in all {
            add(&days, "\(f.user)/\(f.portal)/\(f.account ?? 0)/\(f.created / 86400)", [1, f.size, f.status == "failed" ? 1 : 0])
            guard f.status == "uploaded" else { continue }
            add(&types, "\(f.user)/\(f.portal)/\(f.account ?? 0)/\(f.ext)", [1, f.size])
            add(&clients, "user/\(f.user)/\(f.client)", [1, f.size])
            add(&clients, "portal/\(f.portal)/\(f.client)", [1, f.size])
            if let account = f.account { add(&clients, "account/\(account)/\(f.client)", [1, f.size]) }
        }
        var keptDays: [String: [Int64]] = [:], keptTypes: [String: [Int64]] = [:], keptClients: [String: [Int64]] = [:]
        for r in try db.query("SELECT user_id, portal_id, storage_account_id, day, uploads, bytes, failures FROM upload_days WHERE uploads <> 0 OR bytes <> 0 OR failures <> 0") {
            keptDays["\(try r.get("user_id", as: Int64.self))/\(try r.get("portal_id", as: Int64.self))/\(try r.get("storage_account_id", as: Int64.self))/\(try r.get("day", as: Int64.self))"]
                = [try r.get("uploads"), try r.get("bytes"), try r.get("failures")]
        }
        for r in try db.query("SELECT user_id, portal_id, storage_account_id, extension, files, bytes FROM upload_types WHERE files <> 0 OR bytes <> 0") {
            keptTypes["\(try r.get("user_id", as: Int64.self))/\(try r.get("portal_id", as: Int64.self))/\(try r.get("storage_account_id", as: Int64.self))/\(try r.get("extension", as: String.self))"]
                = [try r.get("files"), try r.get("bytes")]
        }
        for r in try db.query("SELECT scope, scope_id, client, files, bytes FROM upload_clients WHERE files <> 0 OR bytes <> 0") {
            keptClients["\(try r.get("scope", as: String.self))/\(try r.get("scope_id", as: Int64.self))/\(try r.get("client", as: String.self))"]
                = [try r.get("files"), try r.get("bytes")]
        }
        #expect(keptDays == days, "\(context): days")
        #expect(keptTypes == types, "\(context): types")
        #expect(keptClients == clients, "\(context): clients")
        #expect(!days.isEmpty && !types.isEmpty && !clients.isEmpty)
    }

    @Test("the rollups equal a recount after inserts, status changes, moves and deletes, and after a backfill of files from before them")
    func rollupsEqualRecount() throws {
        // Files written before migration 36 are backfilled by it (SQLite: migrated up to 35 first).
        let before = Migrator(Schema.migrations.filter { $0.version < AnalyticsSchema.version },
                              postgresql: Schema.postgresqlMigrations.filter { $0.version < AnalyticsSchema.version })
        try withTemporaryDatabase(migratedBy: before) { db in
            _ = try seed(db, count: 300, seed: 5)
            try Schema.migrator.migrate(db, now: "test")
            try expectRollupsEqualRecount(db, "backfilled")
        }
        try withDatabase { db in
            let s = try seed(db, count: 600, seed: 11)
            try expectRollupsEqualRecount(db, "inserted")
            var random = SeededGenerator(seed: 3)
            let store = FileStore(db: db, clock: ManualClock(), liveness: FakeProcesses())
            let ids = try db.query("SELECT id FROM file_uploads ORDER BY id").map { try $0.get("id", as: Int64.self) }
            for id in ids.shuffled(using: &random).prefix(250) {
                switch Int.random(in: 0..<6, using: &random) {
                case 0: try db.execute("UPDATE file_uploads SET status = 'uploaded', size_bytes = size_bytes + 5 WHERE id = $1", [id])
                case 1: try db.execute("UPDATE file_uploads SET status = 'failed' WHERE id = $1", [id])
                case 2: try db.execute("UPDATE file_uploads SET next_attempt_at = 5, lease_holder = 'x' WHERE id = $1", [id])
                case 3: try db.execute("UPDATE file_uploads SET file_name = 'renamed.DOCX', client_email = 'NEW@clients.example' WHERE id = $1", [id])
                case 4: try db.execute("UPDATE file_uploads SET portal_id = $1, created_at = created_at - 86400 WHERE id = $2 AND user_id = $3",
                                       [s.portals[0], id, s.owner])
                default: _ = try store.removeRecord(id, actor: actor, action: "file_upload.delete")
                }
            }
            // A file of the portal with no account yet is bound when it is delivered.
            try db.execute("UPDATE file_uploads SET storage_account_id = $1, status = 'uploaded' WHERE storage_account_id IS NULL", [s.accounts[1]])
            // Several rows in one statement (PostgreSQL's statement-level triggers group them).
            try db.execute("UPDATE file_uploads SET status = 'failed' WHERE user_id = $1 AND status = 'delivering'", [s.other])
            try db.execute("DELETE FROM file_uploads WHERE portal_id = $1 AND size_bytes < 1000", [s.portals[1]])
            try expectRollupsEqualRecount(db, "changed")
        }
    }

    @Test("a report keeps to its owner, account or portal: stored totals, 90 days, the largest clients and types, the recent failures")
    func report() throws {
        try withDatabase { db in
            let s = try seed(db, count: 800, seed: 17)
            let analytics = StorageAnalytics(db: db, clock: ManualClock(Self.now))
            let all = try files(db)
            let today = Self.now / 86400
            let scopes: [(StorageAnalytics.Scope, (File) -> Bool)] = [
                (.owner, { $0.user == s.owner }),
                (.account(s.accounts[0]), { $0.account == s.accounts[0] }),
                (.portal(s.portals[1]), { $0.portal == s.portals[1] }),
                (.portal(s.portals[2]), { $0.portal == s.portals[2] }),
            ]
            for (scope, member) in scopes {
                let mine = all.filter(member)
                let stored = mine.filter { $0.status == "uploaded" }
                let r = try #require(try analytics.report(userID: s.owner, scope: scope))
                #expect(r.files == Int64(stored.count) && r.bytes == stored.reduce(0) { $0 + $1.size }, "\(scope)")
                #expect(r.days.count == 90 && r.lastDay == today && r.firstDay == today - 89)
                for day in r.days {
                    let those = mine.filter { $0.created / 86400 == day.day }
                    #expect(day.uploads == Int64(those.count) && day.bytes == those.reduce(0) { $0 + $1.size }
                            && day.failures == Int64(those.filter { $0.status == "failed" }.count), "\(scope) \(day.day)")
                }
                var byClient: [String: Int64] = [:]
                for f in stored { byClient[f.client, default: 0] += f.size }
                let largest = byClient.sorted { ($0.value, $0.key) > ($1.value, $1.key) }.prefix(10)
                #expect(r.clients.map(\.name) == largest.map(\.key) && r.clients.map(\.bytes) == largest.map(\.value), "\(scope)")
                var byFamily: [String: Int64] = [:]
                for f in stored { byFamily[FileTypes.kind(extension: f.ext)?.family?.label ?? "Other", default: 0] += f.size }
                #expect(Dictionary(uniqueKeysWithValues: r.types.map { ($0.label, $0.bytes) }) == byFamily, "\(scope)")
                #expect(r.types.map(\.bytes) == r.types.map(\.bytes).sorted(by: >))
                let failed = mine.filter { $0.status == "failed" }.sorted { $0.created > $1.created }.prefix(10)
                #expect(r.recentFailures.map(\.createdAt) == failed.map(\.created), "\(scope)")
            }
            // Another owner's portal or account, or one that does not exist, is not reported on.
            let theirAccount = try #require(try db.scalar("SELECT storage_account_id FROM portals WHERE id = $1", [s.otherPortal], as: Int64.self))
            for scope in [StorageAnalytics.Scope.portal(s.otherPortal), .account(theirAccount), .portal(999_999), .account(999_999)] {
                #expect(try analytics.report(userID: s.owner, scope: scope) == nil, "\(scope)")
            }
            #expect(try analytics.report(userID: s.other, scope: .portal(s.otherPortal))?.files ?? 0 > 0)
            // An owner with no files: a full window of zeros.
            let none = try UserStore(db: db, clock: ManualClock()).create(email: "n@example.com", name: "N", password: "long enough pw", role: .user).id
            let empty = try #require(try analytics.report(userID: none, scope: .owner))
            #expect(empty.files == 0 && empty.bytes == 0 && empty.days.count == 90 && empty.types.isEmpty && empty.clients.isEmpty)
        }
    }

    @Test("the analytics read the rollups and the failed files through indexes, never a whole table", .enabled(if: !TestDatabases.onPostgreSQL, "reads SQLite's query plans"))
    func queryPlans() throws {
        try withDatabase { base in
            let s = try seed(base, count: 2_000, seed: 23)
            for analyzed in [false, true] {
                if analyzed { try base.executeScript("ANALYZE") }
                let db = PlanRecordingDatabase(base)
                let analytics = StorageAnalytics(db: db, clock: ManualClock(Self.now))
                for scope in [StorageAnalytics.Scope.owner, .account(s.accounts[1]), .portal(s.portals[0])] {
                    _ = try analytics.report(userID: s.owner, scope: scope)
                }
                let costly = db.costlyPlans(tables: ["f", "file_uploads", "p", "portals", "upload_days", "upload_types", "upload_clients"])
                #expect(costly.isEmpty, "analyzed: \(analyzed)\n\(costly.joined(separator: "\n"))")
                let plans = db.plans.withLock { $0 }
                #expect(plans.count == 14)  // 4 a report, and the check of the account's and the portal's owner
                let failedReads = plans.filter { $0.sql.contains("FROM file_uploads") }.map { $0.plan.joined(separator: " | ") }
                #expect(failedReads.count == 3)
                for (read, index) in zip(failedReads, ["file_uploads_user_status", "file_uploads_account_failed", "file_uploads_portal_failed"]) {
                    #expect(read.contains("INDEX \(index) "), "analyzed: \(analyzed): \(read)")
                    #expect(!read.contains("TEMP B-TREE"), "analyzed: \(analyzed): \(read)")
                }
                let clientReads = plans.filter { $0.sql.contains("FROM upload_clients") }.map { $0.plan.joined(separator: " | ") }
                #expect(clientReads.allSatisfy { $0.contains("INDEX upload_clients_largest") && !$0.contains("TEMP B-TREE") }, "\(clientReads)")
            }
        }
    }
}
