import Foundation
import Synchronization
import Testing
import TestSupport
@testable import Database

/// The driver under test: SQLite, or PostgreSQL when `INTAKE_TEST_DATABASE_URL` is set.
@Suite("Database driver")
struct SQLiteDatabaseTests {
    @Test("opens configured: SQLite in WAL mode with foreign keys on; PostgreSQL with a statement timeout, in UTC")
    func pragmas() throws {
        try withTemporaryDatabase { db throws in
            switch db.dialect {
            case .sqlite:
                #expect(try db.scalar("PRAGMA journal_mode", as: String.self) == "wal")
                #expect(try db.scalar("PRAGMA foreign_keys", as: Int.self) == 1)
            case .postgresql:
                #expect(try db.scalar("SHOW statement_timeout", as: String.self) == "30s")
                #expect(try db.scalar("SHOW TimeZone", as: String.self) == "UTC")
            }
        }
    }

    @Test("32 threads each making 100 read-modify-write transactions on a connection of their own, in the writers' queue: no busy errors, no lost update; the queue is let go after each")
    func writersQueue() throws {
        try withTemporaryDatabase { db in
            try db.execute("CREATE TABLE counter (n INTEGER NOT NULL)")
            try db.execute("INSERT INTO counter VALUES (0)")
            let location = db.location
            let failures = Mutex<[String]>([])
            onThreads(32) { _ in
                do {
                    let own = try location.open()
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
            let other = try location.open()
            try other.write { try other.execute("UPDATE counter SET n = 0") }
            try db.write { try db.execute("UPDATE counter SET n = 1") }
            #expect(try other.scalar("SELECT n FROM counter", as: Int64.self) == 1)
        }
    }

    @Test("a statement that writes outside a transaction waits in the writers' queue: held by another process's flock alone, with SQLite's lock free, the statement waits for it; a read does not",
          .enabled(if: !TestDatabases.onPostgreSQL, "SQLite's writers' queue"))
    func autocommitWritesQueue() throws {
        try withTemporaryDatabase { db in
            try db.execute("CREATE TABLE log (what TEXT NOT NULL)")
            let location = db.location
            guard case .sqlite(let path) = location else { Issue.record("\(location)"); return }
            // The queue as another process holds it: a descriptor of its own on the queue's file
            // (flock locks belong to the open file, so this thread's connections wait for it too).
            let queue = open(path + "-writer", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
            #expect(queue >= 0)
            defer { close(queue) }
            #expect(flock(queue, LOCK_EX) == 0)
            let released = Mutex(false)
            let seen = Mutex<(read: Bool?, written: Bool?)>((nil, nil))
            let failures = Mutex<[String]>([])
            onThreads(2) { role in
                do {
                    let own = try location.open()
                    if role == 0 {
                        _ = try own.scalar("SELECT count(*) FROM log", as: Int.self)
                        seen.withLock { $0.read = released.withLock { $0 } }
                    } else {
                        try own.execute("INSERT INTO log (what) VALUES ('statement')")
                        seen.withLock { $0.written = released.withLock { $0 } }
                    }
                } catch {
                    failures.withLock { $0.append("\(error)") }
                }
                if role == 0 {
                    // Time for a statement that skipped the queue to finish (nothing else holds
                    // SQLite's lock); then the queue is let go.
                    usleep(300_000)
                    released.withLock { $0 = true }
                    flock(queue, LOCK_UN)
                }
            }
            #expect(failures.withLock { $0 }.isEmpty, "\(failures.withLock { $0 })")
            // Left to SQLite's busy handler, the statement went ahead of the transactions waiting
            // in the queue (and under a burst slept up to 100 ms between tries).
            #expect(seen.withLock { $0.read } == false, "a read waits for nobody")
            #expect(seen.withLock { $0.written } == true, "the statement did not wait for the queue")
            #expect(try db.scalar("SELECT count(*) FROM log", as: Int.self) == 1)
        }
    }

    @Test("numbered parameters bind by number, wherever they appear")
    func numberedParameters() throws {
        try withTemporaryDatabase { db in
            try db.execute("CREATE TABLE t (a TEXT, b INTEGER, c \(db.dialect == .sqlite ? "BLOB" : "BYTEA"), d DOUBLE PRECISION)")
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
            let key = db.dialect == .sqlite ? "INTEGER PRIMARY KEY" : "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"
            try db.execute("CREATE TABLE t (id \(key), name TEXT NOT NULL UNIQUE)")
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

    @Test("nested writes one after another at the same depth (the same savepoint name): a failed one undoes only itself and what nested in it, a failed statement too; the rest commits")
    func siblingSavepoints() throws {
        struct Boom: Error {}
        try withTemporaryDatabase { db in
            try db.execute("CREATE TABLE t (v INTEGER)")
            try db.write {
                try db.write {
                    try db.execute("INSERT INTO t VALUES (1)")
                    try db.write { try db.execute("INSERT INTO t VALUES (2)") }
                }
                do {
                    try db.write {
                        try db.execute("INSERT INTO t VALUES (3)")
                        do {
                            try db.write {
                                try db.execute("INSERT INTO t VALUES (4)")
                                throw Boom()
                            }
                        } catch is Boom {}
                        try db.write { try db.execute("INSERT INTO t VALUES (6)") }
                        throw Boom()
                    }
                } catch is Boom {}
                for v in 100..<200 {
                    try db.write { try db.execute("INSERT INTO t VALUES ($1)", [v]) }
                }
                do {
                    try db.write {
                        try db.execute("INSERT INTO t VALUES (7)")
                        try db.execute("INSERT INTO no_such_table VALUES (1)")
                    }
                    Issue.record("a statement on a missing table did not fail")
                } catch let error as DatabaseError {
                    #expect(error.message.contains("no_such_table"), "\(error)")
                }
                try db.execute("INSERT INTO t VALUES (5)")
            }
            #expect(try db.query("SELECT v FROM t ORDER BY v").map { try $0.get("v", as: Int.self) } == [1, 2, 5] + Array(100..<200))
            // The connection is out of its transaction, savepoints and all: the next one starts clean.
            try db.write { try db.execute("INSERT INTO t VALUES (8)") }
            #expect(try db.scalar("SELECT count(*) FROM t WHERE v = 8", as: Int.self) == 1)
        }
    }

    @Test("concurrent writers on separate connections lose no update")
    func concurrentWriters() throws {
        try withTemporaryDatabase { setup in
            let location = setup.location
            try setup.execute("CREATE TABLE counter (n INTEGER NOT NULL)")
            try setup.execute("INSERT INTO counter VALUES (0)")
            let threads = 4, increments = 100
            let failures = Counter()
            DispatchQueue.concurrentPerform(iterations: threads) { _ in
                do {
                    let db = try location.open()
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
            #expect(try Migrator(migrations, postgresql: migrations).migrate(db, now: "t") == [1, 2])
            #expect(try Migrator(migrations, postgresql: migrations).migrate(db, now: "t") == [])
            #expect(try Migrator(migrations, postgresql: migrations).appliedVersions(db) == [1, 2])
        }
    }

    @Test("a failing migration leaves no trace and names itself")
    func failureRollsBack() throws {
        try withTemporaryDatabase { db in
            let broken = migrations + [Migration(3, "broken", "CREATE TABLE c (id INTEGER); THIS IS NOT SQL")]
            let error = try #require(throws: DatabaseError.self) { try Migrator(broken, postgresql: broken).migrate(db, now: "t") }
            #expect(error.kind == .migration && error.message.contains("migration 3 (broken)"))
            #expect(try Migrator(broken, postgresql: broken).appliedVersions(db) == [1, 2])
            let tables = db.dialect == .sqlite ? "sqlite_master" : "information_schema.tables WHERE table_schema = 'public' AND"
            #expect(try db.scalar("SELECT count(*) FROM \(tables) \(db.dialect == .sqlite ? "WHERE" : "") table_name = 'c'".replacingOccurrences(of: "sqlite_master WHERE table_name", with: "sqlite_master WHERE name"), as: Int.self) == 0)
        }
    }

    @Test("two connections migrating at once apply each version exactly once")
    func concurrentMigrators() throws {
        try withTemporaryDatabase { first in
            let location = first.location
            let results = Results()
            DispatchQueue.concurrentPerform(iterations: 2) { _ in
                do {
                    let db = try location.open()
                    results.append(try Migrator(migrations, postgresql: migrations).migrate(db, now: "t"))
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

@Suite("PostgreSQL driver")
struct PostgresDatabaseTests {
    @Test("a connection the server ended (a restart, an administrator) is opened again by the next statement, outside a transaction",
          .enabled(if: TestDatabases.onPostgreSQL, "needs INTAKE_TEST_DATABASE_URL"))
    func reconnects() throws {
        try withTemporaryDatabase { db in
            try db.execute("CREATE TABLE t (v BIGINT)")
            let before = try #require(try db.scalar("SELECT pg_backend_pid()", as: Int64.self))
            let admin = try db.location.open()
            #expect(try admin.scalar("SELECT pg_terminate_backend(CAST($1 AS integer))::int", [before], as: Int64.self) == 1)
            usleep(100_000)
            #expect(try db.scalar("SELECT count(*) FROM t", as: Int64.self) == 0, "a read goes through on a new connection")
            #expect(try db.scalar("SELECT pg_backend_pid()", as: Int64.self) != before)
            _ = try admin.scalar("SELECT pg_terminate_backend(CAST($1 AS integer))::int", [try #require(try db.scalar("SELECT pg_backend_pid()", as: Int64.self))], as: Int64.self)
            usleep(100_000)
            try db.execute("INSERT INTO t VALUES (1)")  // a write begins its transaction on a new connection
            #expect(try db.scalar("SELECT sum(v) FROM t", as: Int64.self) == 1)
        }
    }

    @Test("parameters: untyped text meets citext as citext; a NULL whose type nothing tells is sent as text; ? placeholders are numbered; NUL in text is refused",
          .enabled(if: TestDatabases.onPostgreSQL, "needs INTAKE_TEST_DATABASE_URL"))
    func parameters() throws {
        try withTemporaryDatabase { db in
            try db.executeScript("CREATE EXTENSION IF NOT EXISTS citext; CREATE TABLE u (name citext, n BIGINT)")
            try db.execute("INSERT INTO u VALUES ($1, $2)", ["Ada", 1])
            #expect(try db.scalar("SELECT count(*) FROM u WHERE name = $1", ["ADA"], as: Int.self) == 1)
            #expect(try db.scalar("SELECT CASE WHEN $1 IS NULL THEN 'none' ELSE $1 END", [String?.none], as: String.self) == "none")
            #expect(try db.scalar("SELECT n FROM u WHERE name = ? AND n = ?", ["ada", 1], as: Int64.self) == 1)
            #expect(PostgresDatabase.numbered("SELECT '?', ? FROM t WHERE a = ?") == "SELECT '?', $1 FROM t WHERE a = $2")
            #expect(throws: DatabaseError.self) { try db.execute("INSERT INTO u VALUES ($1, 2)", ["a\u{0}b"]) }
            try db.write {
                // A statement that fails to prepare inside a transaction leaves the transaction usable.
                #expect(try db.scalar("SELECT $1 IS NULL", [String?.none], as: Bool.self) == true)
                try db.execute("INSERT INTO u VALUES ('Bob', 2)")
            }
            #expect(try db.scalar("SELECT count(*) FROM u", as: Int.self) == 2)
        }
    }
}
