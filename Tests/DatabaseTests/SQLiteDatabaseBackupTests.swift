import Foundation
import Synchronization
import Testing
import TestSupport
@testable import Database

@Suite("SQLite backup and restore")
struct SQLiteDatabaseBackupTests {
    /// A fresh SQLite file in a folder of its own: backup and restore are SQLite's, whichever
    /// database the other tests run on.
    static func withSQLiteDatabase<T>(_ body: (SQLiteDatabase) throws -> T) throws -> T {
        try withTemporaryDirectory("intake-db") { try body(try SQLiteDatabase(path: $0 + "/test.db")) }
    }

    /// The folder a test database lives in, where its backups go too.
    static func folder(_ db: SQLiteDatabase) -> String { URL(fileURLWithPath: db.path).deletingLastPathComponent().path }

    /// A table `t` of 2,000 rows of 4 KiB (some 8 MiB, many backup steps) and a counter that
    /// every write below moves together with the rows.
    static func fill(_ db: SQLiteDatabase) throws {
        try db.executeScript("""
            CREATE TABLE t (id INTEGER PRIMARY KEY, payload BLOB NOT NULL);
            CREATE TABLE counter (rows INTEGER NOT NULL);
            INSERT INTO counter VALUES (2000);
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000) INSERT INTO t (payload) SELECT randomblob(4096) FROM n;
            """)
    }

    /// The rows and the counter agree: what one consistent snapshot shows.
    static func expectConsistent(_ path: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> Int64 {
        let copy = try SQLiteDatabase(path: path)
        #expect(try copy.scalar("PRAGMA integrity_check", as: String.self) == "ok", sourceLocation: sourceLocation)
        let rows = try copy.scalar("SELECT count(*) FROM t", as: Int64.self)
        #expect(rows == (try copy.scalar("SELECT rows FROM counter", as: Int64.self)), sourceLocation: sourceLocation)
        return rows ?? 0
    }

    /// Fills `db`, backs it up to `backup.db` beside it, then keeps only 10 rows: the backup and
    /// the database differ.
    static func backUpThenShrink(_ db: SQLiteDatabase) throws -> String {
        try fill(db)
        let backup = folder(db) + "/backup.db"
        _ = try db.backup(to: backup)
        try db.write { try db.execute("DELETE FROM t WHERE id > 10"); try db.execute("UPDATE counter SET rows = 10") }
        return backup
    }

    static func mode(_ path: String) throws -> Int {
        try #require(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
    }

    @Test("a backup taken while another connection commits without a pause finishes, holds exactly one snapshot, and is one file of mode 0600 in rollback-journal mode")
    func backupWhileWriting() throws {
        try Self.withSQLiteDatabase { db in
            try Self.fill(db)
            let path = db.path
            let commits = Atomic<Int>(0)
            let stop = Atomic<Bool>(false)
            let writerDone = DispatchSemaphore(value: 0)
            let writerError = Mutex<String?>(nil)
            Thread.detachNewThread {
                defer { writerDone.signal() }
                do {
                    let writer = try SQLiteDatabase(path: path)
                    let deadline = Date().addingTimeInterval(30)
                    while !stop.load(ordering: .relaxed) && Date() < deadline {
                        try writer.write {
                            try writer.execute("INSERT INTO t (payload) VALUES (randomblob(512))")
                            try writer.execute("UPDATE counter SET rows = rows + 1")
                        }
                        commits.add(1, ordering: .relaxed)
                    }
                } catch { writerError.withLock { $0 = "\(error)" } }
            }
            while commits.load(ordering: .relaxed) < 20 { usleep(1_000) }
            let before = commits.load(ordering: .relaxed)
            let backup = Self.folder(db) + "/backup.db"
            let started = Date()
            let copy = try db.backup(to: backup)
            let seconds = Date().timeIntervalSince(started)
            let during = commits.load(ordering: .relaxed) - before
            stop.store(true, ordering: .relaxed)
            writerDone.wait()
            #expect(writerError.withLock { $0 } == nil, "\(writerError.withLock { $0 } ?? "")")
            #expect(during > 0, "the writer went on committing while the backup ran")
            #expect(seconds < 10, "a backup that restarted at each commit would run until the writer stops (30 s)")
            #expect(copy.pages > 2000 && copy.bytes == Int64(copy.pages) * 4096)

            #expect(try Self.mode(backup) == 0o600)
            let header = try #require(FileHandle(forReadingAtPath: backup)).readData(ofLength: 20)
            #expect(header[18] == 1 && header[19] == 1, "rollback-journal mode: the file opens without a -wal beside it")
            let rows = try Self.expectConsistent(backup)
            #expect(rows >= 2020 && rows < 2000 + Int64(commits.load(ordering: .relaxed)), "the snapshot taken at the start, not the end")
            let left = try FileManager.default.contentsOfDirectory(atPath: Self.folder(db)).filter { $0.hasPrefix(".") || $0.hasPrefix("backup.db-") }
            #expect(left.isEmpty, "no temporary or journal file is left: \(left)")
        }
    }

    @Test("a backup refuses an existing file unless it replaces it, and names a missing folder; a refused backup leaves nothing behind")
    func backupRefusals() throws {
        try Self.withSQLiteDatabase { db in
            try Self.fill(db)
            let folder = Self.folder(db)
            let existing = folder + "/existing.db"
            try Data("keep me".utf8).write(to: URL(fileURLWithPath: existing))
            let refused = try #require(throws: DatabaseFileError.self) { try db.backup(to: existing) }
            #expect(refused.reason == .exists && refused.path == existing)
            #expect(try String(contentsOfFile: existing, encoding: .utf8) == "keep me")

            let noFolder = try #require(throws: DatabaseFileError.self) { try db.backup(to: folder + "/missing/backup.db") }
            #expect(noFolder.reason == .noFolder && noFolder.path == folder + "/missing")
            #expect(try #require(throws: DatabaseFileError.self) { try db.backup(to: folder) }.reason == .exists, "a folder is not a backup file")

            _ = try db.backup(to: existing, replacing: true)
            _ = try Self.expectConsistent(existing)
            let names = try FileManager.default.contentsOfDirectory(atPath: folder).filter { !$0.hasPrefix("test.db") }
            #expect(names == ["existing.db"], "nothing else is left: \(names)")
        }
    }

    @Test("restore puts a copy of the backup in place, keeps the database it replaces, and refuses while another connection has the database open")
    func restore() throws {
        try Self.withSQLiteDatabase { db in
            let backup = try Self.backUpThenShrink(db)
            let current = db.path, kept = Self.folder(db) + "/kept.db"

            // `db` is open: nothing changes.
            let inUse = try #require(throws: DatabaseFileError.self) {
                try SQLiteDatabase.restore(current, from: backup, keepingCurrentAs: kept) { _ in }
            }
            #expect(inUse.reason == .inUse)
            #expect(!FileManager.default.fileExists(atPath: kept))
            #expect(try db.scalar("SELECT count(*) FROM t", as: Int.self) == 10)
            try db.write { try db.execute("UPDATE counter SET rows = 10") }  // the database is still written normally
        }
        try withTemporaryDirectory { folder in
            let current = folder + "/intake.db", kept = folder + "/kept.db"
            let backup = try Self.backUpThenShrink(try SQLiteDatabase(path: current))  // and closed
            var checked = false
            let restored = try SQLiteDatabase.restore(current, from: backup, keepingCurrentAs: kept) { copy in
                checked = try copy.scalar("SELECT rows FROM counter", as: Int.self) == 2000
            }
            #expect(checked, "the check ran on the copy")
            #expect(restored.keptCurrent && restored.bytes > 8_000_000)
            #expect(try Self.expectConsistent(current) == 2000)
            #expect(try Self.expectConsistent(kept) == 10, "the replaced database, complete without its WAL")
            #expect(try Self.mode(current) == 0o600)
            let names = Set(try FileManager.default.contentsOfDirectory(atPath: folder))
            #expect(names.isSubset(of: ["intake.db", "intake.db-wal", "intake.db-shm", "intake.db-writer", "backup.db", "kept.db", "kept.db-wal", "kept.db-shm"]),
                    "no temporary file is left: \(names)")
            #expect(throws: DatabaseFileError.self, "the kept name is taken") {
                try SQLiteDatabase.restore(current, from: backup, keepingCurrentAs: kept) { _ in }
            }
        }
    }

    @Test("restore refuses a file that is not a database, a damaged one, and whatever the caller's check refuses, and changes nothing then")
    func restoreRefusals() throws {
        struct NotOurs: Error {}
        try withTemporaryDirectory { folder in
            let current = folder + "/intake.db", kept = folder + "/kept.db"
            do { try Self.fill(try SQLiteDatabase(path: current)) }
            let text = folder + "/notes.txt"
            try Data(String(repeating: "not a database\n", count: 100).utf8).write(to: URL(fileURLWithPath: text))
            let damaged = folder + "/damaged.db"
            do { _ = try SQLiteDatabase(path: current).backup(to: damaged) }
            let handle = try #require(FileHandle(forUpdatingAtPath: damaged))
            try handle.seek(toOffset: 4096 * 3)  // a page of the table's b-tree
            handle.write(Data(repeating: 0xA5, count: 4096))
            try handle.close()

            let cases: [(file: String, reason: DatabaseFileError.Reason)] = [(text, .notADatabase), (damaged, .damaged), (folder + "/none.db", .missing)]
            for (file, reason) in cases {
                let refused = try #require(throws: DatabaseFileError.self) {
                    try SQLiteDatabase.restore(current, from: file, keepingCurrentAs: kept) { _ in }
                }
                #expect(refused.reason == reason, "\(file): \(refused)")
            }
            #expect(throws: NotOurs.self) { try SQLiteDatabase.restore(current, from: current, keepingCurrentAs: kept) { _ in throw NotOurs() } }
            let names = Set(try FileManager.default.contentsOfDirectory(atPath: folder))
            #expect(names == ["intake.db", "notes.txt", "damaged.db"], "nothing replaced, kept or left behind: \(names)")
            #expect(try Self.expectConsistent(current) == 2000)
        }
    }
}
