import Database
import Foundation
@testable import Intake
import Testing
import TestSupport

@Suite("Schema migrations")
struct SchemaTests {
    /// A database migrated up to `version` only.
    func withDatabase(migratedTo version: Int, _ body: (any Database) throws -> Void) throws {
        try withTemporaryDatabase(migratedBy: Migrator(Schema.migrations.filter { $0.version <= version }), body)
    }

    func seed(_ db: Database) throws {
        try db.executeScript("""
            INSERT INTO users (id, email, email_normalized, name, password_hash, role, created_at, updated_at)
                VALUES (1, 'a@example.com', 'a@example.com', 'A', 'x', 'user', 0, 0), (2, 'b@example.com', 'b@example.com', 'B', 'x', 'user', 0, 0);
            INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, last_seen_at, expires_at) VALUES (x'01', 2, 'c', 0, 0, 9);
            INSERT INTO storage_accounts (id, user_id, provider, provider_account_id, display_name, created_at, updated_at)
                VALUES (1, 1, 'local', 'disk', 'Local disk', 0, 0);
            INSERT INTO portals (id, user_id, name, slug, storage_account_id, created_at, updated_at) VALUES (1, 1, 'P', 'p', 1, 0, 0);
            INSERT INTO file_uploads (id, portal_id, user_id, storage_account_id, file_name, size_bytes, status, created_at, updated_at)
                VALUES (1, 1, 1, 1, 'one.pdf', 1, 'uploaded', 0, 0), (2, 1, 1, 1, 'two.pdf', 2, 'uploaded', 0, 0);
            """)
    }

    @Test("the maintained balances and daily revenue start from the ledger already there, and follow every later append", .enabled(if: !TestDatabases.onPostgreSQL, "migrates SQLite's schema history; PostgreSQL starts at version 33"))
    func balancesBackfilled() throws {
        try withDatabase(migratedTo: 23) { db in
            try seed(db)
            try db.executeScript("""
                INSERT INTO balance_ledger (user_id, amount_minor, currency, reason, reference, created_at) VALUES
                    (1, 5000, 'USD', 'Top-up', 'admin', 0), (1, -1200, 'USD', 'Storage purchase', 'purchase:1', 86400),
                    (1, -800, 'USD', 'Plan renewal', 'renewal:1', 86401), (1, 300, 'KWD', 'Top-up', 'admin', 0),
                    (2, 700, 'USD', 'Top-up', 'admin', 0);
                """)
            try Schema.migrator.migrate(db, now: "test")
            let balances = try db.query("SELECT user_id, currency, balance_minor FROM balances ORDER BY user_id, currency").map {
                "\(try $0.get("user_id", as: Int64.self)) \(try $0.get("currency", as: String.self)) \(try $0.get("balance_minor", as: Int64.self))"
            }
            #expect(balances == ["1 KWD 300", "1 USD 3000", "2 USD 700"])
            let revenue = { try db.query("SELECT day, kind, earned_minor FROM revenue_daily ORDER BY kind").map {
                "\(try $0.get("day", as: Int64.self)) \(try $0.get("kind", as: String.self)) \(try $0.get("earned_minor", as: Int64.self))"
            } }
            #expect(try revenue() == ["1 plan 800", "1 purchase 1200"])
            try db.execute("INSERT INTO balance_ledger (user_id, amount_minor, currency, reason, reference, created_at) VALUES (1, -500, 'USD', 'x', 'purchase:2', 90000)")
            #expect(try revenue() == ["1 plan 800", "1 purchase 1700"])
            #expect(try db.scalar("SELECT balance_minor FROM balances WHERE user_id = 1 AND currency = 'USD'", as: Int64.self) == 2500)
        }
    }

    @Test("the kept file counts, the site's counts and the search index start from the files already there", .enabled(if: !TestDatabases.onPostgreSQL, "migrates SQLite's schema history; PostgreSQL starts at version 33"))
    func fileCountsBackfilled() throws {
        try withDatabase(migratedTo: 24) { db in
            try seed(db)
            try db.executeScript("""
                INSERT INTO file_uploads (id, portal_id, user_id, storage_account_id, file_name, size_bytes, client_name, status, created_at, updated_at)
                    VALUES (3, 1, 1, 1, 'Three Report.pdf', 4, 'Ada', 'failed', 0, 0);
                UPDATE users SET role = 'admin' WHERE id = 2;
                """)
            try Schema.migrator.migrate(db, now: "test")
            #expect(try db.scalar("SELECT uploaded_files FROM portals WHERE id = 1", as: Int.self) == 2)
            #expect(try db.scalar("SELECT uploaded_files || ' ' || uploaded_bytes FROM storage_accounts WHERE id = 1", as: String.self) == "2 3")
            #expect(try db.query("SELECT status || ' ' || files || ' ' || bytes AS t FROM file_totals ORDER BY status").map { try $0.get("t", as: String.self) }
                    == ["failed 1 4", "uploaded 2 3"])
            #expect(try db.query("SELECT name || ' ' || n AS t FROM site_counts ORDER BY name").map { try $0.get("t", as: String.self) }
                    == ["admins 1", "disabled 0", "portals 1", "users 2"])
            var report = FileStore.Filter()
            report.search = "REPORT"
            #expect(try db.query("SELECT rowid FROM file_search WHERE file_search MATCH $1", [FileSearch(report, userID: 1, .sqlite).match!])
                .map { try $0.get("rowid", as: Int64.self) } == [3])
            try db.execute("INSERT INTO file_search (file_search) VALUES ('integrity-check')")
            // Incremental merging off: with every owner's words it tripled the cost of recording a file.
            #expect(try db.scalar("SELECT v FROM file_search_config WHERE k = 'automerge'", as: Int.self) == 0)
        }
    }

    @Test("ids are never reused: after the migration a deleted row's id goes to no new row, in every table whose id reaches a URL", .enabled(if: !TestDatabases.onPostgreSQL, "migrates SQLite's schema history; PostgreSQL starts at version 33"))
    func idsNeverReused() throws {
        try withDatabase(migratedTo: 14) { db in
            try seed(db)
            try Schema.migrator.migrate(db, now: "test")
            // The rows, their references and the rules on them came through the rebuild.
            #expect(try db.query("SELECT id, file_name FROM file_uploads ORDER BY id").map { try $0.get("file_name", as: String.self) } == ["one.pdf", "two.pdf"])
            #expect(throws: DatabaseError.self) { try db.execute("UPDATE file_uploads SET storage_account_id = 2 WHERE id = 1") }
            #expect(throws: DatabaseError.self) { try db.execute("INSERT INTO portals (user_id, name, slug, created_at, updated_at) VALUES (99, 'X', 'x', 0, 0)") }
            #expect(try db.query("PRAGMA foreign_key_check").isEmpty)
            #expect(try db.scalar("PRAGMA foreign_keys", as: Int.self) == 1)
            try db.execute("DELETE FROM users WHERE id = 2")
            #expect(try db.scalar("SELECT count(*) FROM sessions", as: Int.self) == 0, "cascades still hold")

            for (table, insert) in [
                ("file_uploads", "INSERT INTO file_uploads (portal_id, user_id, storage_account_id, file_name, size_bytes, status, created_at, updated_at) VALUES (1, 1, 1, 'n', 1, 'uploaded', 0, 0)"),
                ("portals", "INSERT INTO portals (user_id, name, slug, created_at, updated_at) VALUES (1, 'Q', 'q' || random(), 0, 0)"),
                ("users", "INSERT INTO users (email, email_normalized, name, password_hash, role, created_at, updated_at) VALUES ('c', 'c' || random(), 'C', 'x', 'user', 0, 0)"),
                ("storage_accounts", "INSERT INTO storage_accounts (user_id, provider, provider_account_id, display_name, created_at, updated_at) VALUES (1, 'local', 'd' || random(), 'L', 0, 0)"),
                ("tariff_plans", "INSERT INTO tariff_plans (name, monthly_price_minor, currency, storage_bytes, max_file_bytes, max_portals, created_at, updated_at) VALUES ('t' || random(), 0, 'USD', 1, 1, 1, 0, 0)"),
            ] {
                let first = try #require(try db.scalar(insert + " RETURNING id", as: Int64.self))
                try db.execute("DELETE FROM \(table) WHERE id = \(first)")
                let second = try #require(try db.scalar(insert + " RETURNING id", as: Int64.self))
                #expect(second > first, "\(table) gave id \(first) again")
            }
        }
    }
}

@Suite("Upload receipts")
struct UploadReceiptTests {
    let key = Array(repeating: UInt8(7), count: 32)

    @Test("a receipt is genuine only for the file whose secret it was made with, even under the same id")
    func secretBound() {
        let a = UploadReceipt.newSecret(), b = UploadReceipt.newSecret()
        #expect(a != b && a.count == 22)
        let token = UploadReceipt.token(uploadID: 9, secret: a, key: key)
        #expect(UploadReceipt.uploadID(token) == 9)
        #expect(UploadReceipt.isGenuine(token, uploadID: 9, secret: a, key: key))
        #expect(!UploadReceipt.isGenuine(token, uploadID: 9, secret: b, key: key), "another file that got id 9")
        #expect(!UploadReceipt.isGenuine(token, uploadID: 9, secret: nil, key: key))
        #expect(!UploadReceipt.isGenuine(token, uploadID: 9, secret: a, key: Array(repeating: 8, count: 32)))
        // A file from before receipt secrets keeps its old receipt; a new file never accepts one of those.
        let legacy = UploadReceipt.token(uploadID: 9, secret: nil, key: key)
        #expect(UploadReceipt.isGenuine(legacy, uploadID: 9, secret: nil, key: key))
        #expect(!UploadReceipt.isGenuine(legacy, uploadID: 9, secret: a, key: key))
        for forged in ["", "9", "9.", "x.AAAA", "-1.AAAA", "9.AAAA.BBBB"] { #expect(!UploadReceipt.isGenuine(forged, uploadID: 9, secret: a, key: key)) }
    }
}

@Suite("Schema: the status lists are the lifecycles'")
struct StatusListTests {
    @Test("a recorded file and a tus upload admit exactly their lifecycle's states")
    func checks() throws {
        try withDatabase { db in
            if db.dialect == .sqlite {
                let files = try #require(try db.scalar("SELECT sql FROM sqlite_master WHERE name = 'file_uploads'", as: String.self))
                let tus = try #require(try db.scalar("SELECT sql FROM sqlite_master WHERE name = 'tus_uploads'", as: String.self))
                #expect(files.contains("CHECK (status IN (\(FileUploadStatus.sqlList)))") && files.contains("AUTOINCREMENT"))
                #expect(tus.contains("CHECK (status IN (\(TusUploadStatus.sqlList)))"))
            } else {
                #expect(PostgreSQLSchema.base.contains("CHECK (status IN (\(FileUploadStatus.sqlList)))"))
                #expect(PostgreSQLSchema.base.contains("CHECK (status IN (\(TusUploadStatus.sqlList)))"))
            }
            try db.executeScript("""
                INSERT INTO users (id, email, email_normalized, name, password_hash, role, created_at, updated_at) VALUES (1, 'a', 'a', 'A', 'x', 'user', 0, 0);
                INSERT INTO portals (id, user_id, name, slug, created_at, updated_at) VALUES (1, 1, 'P', 'p', 0, 0);
                """)
            let insert = "INSERT INTO file_uploads (portal_id, user_id, file_name, size_bytes, status, created_at, updated_at) VALUES (1, 1, 'f', 1, $1, 0, 0)"
            for status in FileUploadStatus.allCases { try db.execute(insert, [status.rawValue]) }
            for stray in ["receiving", "scanning", "rejected", "uploaded "] {
                #expect(throws: DatabaseError.self) { try db.execute(insert, [stray]) }
            }
            if db.dialect == .sqlite { #expect(try db.query("PRAGMA foreign_key_check").isEmpty) }
        }
    }
}
