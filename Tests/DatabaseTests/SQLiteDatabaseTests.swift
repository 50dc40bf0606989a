import Foundation
import Synchronization
import Testing
import TestSupport
@testable import Database

@Suite("SQLite driver")
struct SQLiteDatabaseTests {
    @Test("opens in WAL mode with foreign keys on")
    func pragmas() throws {
        try withTemporaryDatabase { db throws in
            #expect(try db.scalar("PRAGMA journal_mode", as: String.self) == "wal")
            #expect(try db.scalar("PRAGMA foreign_keys", as: Int.self) == 1)
        }
    }

    @Test("32 threads each making 100 read-modify-write transactions on a connection of their own, in the writers' queue: no busy errors, no lost update; the queue is let go after each")
    func writersQueue() throws {
        try withTemporaryDatabase { db in
            try db.execute("CREATE TABLE counter (n INTEGER NOT NULL)")
            try db.execute("INSERT INTO counter VALUES (0)")
            let path = db.path
            let failures = Mutex<[String]>([])
            onThreads(32) { _ in
                do {
                    let own = try SQLiteDatabase(path: path)
                    for _ in 0..<100 {
                        try own.write {
                            let n = try own.scalar("SELECT n FROM counter", as: Int64.self) ?? 0
                            try own.execute("UPDATE counter SET n = $1", [n + 1])
                        }
                    }
                } catch {
                    failures.withLock { $0.append("\(error)") }
                }
            }
            #expect(failures.withLock { $0 }.isEmpty, "\(failures.withLock { $0 }.prefix(3))")
            #expect(try db.scalar("SELECT n FROM counter", as: Int64.self) == 3200)
            // (The tail latency it exists for is measured by `scripts/bench purchase`, across processes.)
            // The queue is let go: the same thread writes again on another connection.
            let other = try SQLiteDatabase(path: path)
            try other.write { try other.execute("UPDATE counter SET n = 0") }
            try db.write { try db.execute("UPDATE counter SET n = 1") }
            #expect(try other.scalar("SELECT n FROM counter", as: Int64.self) == 1)
        }
    }

    @Test("numbered parameters bind by number, wherever they appear")
    func numberedParameters() throws {
        try withTemporaryDatabase { db in
            try db.execute("CREATE TABLE t (a TEXT, b INTEGER, c BLOB, d REAL)")
            try db.execute("INSERT INTO t (b, a, c, d) VALUES ($2, $1, $3, $4)", ["x", 7, [UInt8]([1, 2]), 2.5])
            let row = try #require(try db.queryOne("SELECT a, b, c, d, NULL AS e FROM t WHERE b = $1 AND a = $2", [7, "x"]))
            #expect(try row.get("a", as: String.self) == "x")
            #expect(try row.get("b", as: Int64.self) == 7)
            #expect(try row.get("c", as: [UInt8].self) == [1, 2])
            #expect(try row.get("d", as: Double.self) == 2.5)
            #expect(try row.get("e", as: String?.self) == nil)
            #expect(throws: DatabaseError.self) { try row.get("a", as: Int.self) }
            #expect(throws: DatabaseError.self) { try row.get("missing", as: Int.self) }
            #expect(throws: DatabaseError.self) { try db.execute("INSERT INTO t (a) VALUES ($1)", []) }
        }
    }

    @Test("RETURNING gives the new id")
    func returning() throws {
        try withTemporaryDatabase { db in
            try db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)")
            let id = try db.scalar("INSERT INTO t (name) VALUES ($1) RETURNING id", ["a"], as: Int64.self)
            #expect(id == 1)
            let error = try #require(throws: DatabaseError.self) { try db.execute("INSERT INTO t (name) VALUES ($1)", ["a"]) }
            #expect(error.kind == .constraint)
        }
    }

    @Test("a throwing transaction leaves nothing; a nested one rolls back alone")
    func transactions() throws {
        struct Boom: Error {}
        try withTemporaryDatabase { db in
            try db.execute("CREATE TABLE t (v INTEGER)")
            var rolledBack = false
            do {
                try db.write {
                    try db.execute("INSERT INTO t VALUES (1)")
                    throw Boom()
                }
            } catch is Boom {
                rolledBack = true
            }
            #expect(rolledBack)
            #expect(try db.scalar("SELECT count(*) FROM t", as: Int.self) == 0)
            try db.write {
                try db.execute("INSERT INTO t VALUES (1)")
                do {
                    try db.write {
                        try db.execute("INSERT INTO t VALUES (2)")
                        throw Boom()
                    }
                } catch is Boom {
                    // expected: only the savepoint rolls back
                }
                try db.execute("INSERT INTO t VALUES (3)")
            }
            #expect(try db.query("SELECT v FROM t ORDER BY v").map { try $0.get("v", as: Int.self) } == [1, 3])
        }
    }

    @Test("concurrent writers on separate connections lose no update")
    func concurrentWriters() throws {
        try withTemporaryDatabase { setup in
            let path = setup.path
            try setup.execute("CREATE TABLE counter (n INTEGER NOT NULL)")
            try setup.execute("INSERT INTO counter VALUES (0)")
            let threads = 4, increments = 100
            let failures = Counter()
            DispatchQueue.concurrentPerform(iterations: threads) { _ in
                do {
                    let db = try SQLiteDatabase(path: path)
                    for _ in 0..<increments {
                        try db.write {
                            let n = try db.scalar("SELECT n FROM counter", as: Int.self) ?? 0
                            try db.execute("UPDATE counter SET n = $1", [n + 1])
                        }
                    }
                } catch {
                    failures.increment()
                }
            }
            #expect(failures.value == 0)
            #expect(try setup.scalar("SELECT n FROM counter", as: Int.self) == threads * increments)
        }
    }
}

@Suite("Migrations")
struct MigratorTests {
    let migrations = [
        Migration(1, "create a", "CREATE TABLE a (id INTEGER PRIMARY KEY)"),
        Migration(2, "create b", "CREATE TABLE b (id INTEGER PRIMARY KEY, a_id INTEGER REFERENCES a(id))"),
    ]

    @Test("applies each version once and records it")
    func appliesOnce() throws {
        try withTemporaryDatabase { db throws in
            #expect(try Migrator(migrations).migrate(db, now: "t") == [1, 2])
            #expect(try Migrator(migrations).migrate(db, now: "t") == [])
            #expect(try Migrator(migrations).appliedVersions(db) == [1, 2])
        }
    }

    @Test("a failing migration leaves no trace and names itself")
    func failureRollsBack() throws {
        try withTemporaryDatabase { db in
            let broken = migrations + [Migration(3, "broken", "CREATE TABLE c (id INTEGER); THIS IS NOT SQL")]
            let error = try #require(throws: DatabaseError.self) { try Migrator(broken).migrate(db, now: "t") }
            #expect(error.kind == .migration && error.message.contains("migration 3 (broken)"))
            #expect(try Migrator(broken).appliedVersions(db) == [1, 2])
            #expect(try db.scalar("SELECT count(*) FROM sqlite_master WHERE name = 'c'", as: Int.self) == 0)
        }
    }

    @Test("two connections migrating at once apply each version exactly once")
    func concurrentMigrators() throws {
        try withTemporaryDatabase { first in
            let path = first.path
            let results = Results()
            DispatchQueue.concurrentPerform(iterations: 2) { _ in
                do {
                    let db = try SQLiteDatabase(path: path)
                    results.append(try Migrator(migrations).migrate(db, now: "t"))
                } catch {
                    results.append([-1])
                }
            }
            #expect(results.all.flatMap { $0 }.sorted() == [1, 2])
        }
    }
}

final class Counter: @unchecked Sendable {  // guarded by lock
    private let lock = NSLock()
    private var n = 0
    func increment() { lock.withLock { n += 1 } }
    var value: Int { lock.withLock { n } }
}

final class Results: @unchecked Sendable {  // guarded by lock
    private let lock = NSLock()
    private var items: [[Int]] = []
    func append(_ v: [Int]) { lock.withLock { items.append(v) } }
    var all: [[Int]] { lock.withLock { items } }
}
