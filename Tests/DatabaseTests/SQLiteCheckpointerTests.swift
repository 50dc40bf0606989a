import Foundation
import Synchronization
import Testing
import TestSupport
@testable import Database

/// The WAL's checkpoints on a thread of their own (`SQLiteCheckpointer`).
@Suite("SQLite checkpoint thread", .enabled(if: !TestDatabases.onPostgreSQL, "SQLite's write-ahead log"))
struct SQLiteCheckpointerTests {
    /// Frames in the WAL file: a 32-byte header, then 24 bytes and one page per frame.
    static func walFrames(_ path: String) -> Int {
        let bytes = (try? FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? Int) ?? 0
        return max(0, bytes - 32) / (4096 + 24)
    }

    static func blob(_ thread: Int, _ n: Int) -> [UInt8] {
        var generator = SeededGenerator(seed: UInt64(thread * 10_000 + n))
        return (0..<16_384).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }

    @Test("8 threads commit 800 transactions of 16 KiB (some 4,000 pages): the thread checkpoints, the WAL stays near its limit, every row reads back")
    func keepsTheWALBounded() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/test.db"
            let checkpointer = try SQLiteCheckpointer.start(path: path, thresholdPages: 100, limitPages: 400)
            defer { checkpointer.stop() }
            let db = try SQLiteDatabase(path: path)
            try db.execute("CREATE TABLE t (thread INTEGER NOT NULL, n INTEGER NOT NULL, data BLOB NOT NULL)")
            let failures = Mutex<[String]>([])
            let largestWAL = Mutex(0)
            onThreads(8) { thread in
                do {
                    let own = try SQLiteDatabase(path: path)
                    for n in 0..<100 {
                        let data = Self.blob(thread, n)
                        try own.write { try own.execute("INSERT INTO t VALUES ($1, $2, $3)", [thread, n, data]) }
                        let frames = Self.walFrames(path)
                        largestWAL.withLock { $0 = max($0, frames) }
                    }
                } catch {
                    failures.withLock { $0.append("\(error)") }
                }
            }
            #expect(failures.withLock { $0 }.isEmpty, "\(failures.withLock { $0 }.prefix(3))")
            let made = checkpointer.checkpoints
            #expect(made.all >= 1)
            // With nobody checkpointing the WAL would hold every page written, over 4,000; with
            // SQLite's own checkpoints, which these connections no longer make, about 1,000. Here a
            // catch-up starts at 400 pages, plus what the writers add while a pass syncs.
            #expect(largestWAL.withLock { $0 } < 900, "the WAL reached \(largestWAL.withLock { $0 }) pages (\(made.all) checkpoints, \(made.queued) in the queue)")
            #expect(try db.scalar("SELECT count(*) FROM t", as: Int.self) == 800)
            for row in try db.query("SELECT thread, n, data FROM t WHERE n % 10 = 0") {
                let thread: Int = try row.get("thread"), n: Int = try row.get("n")
                #expect(try row.get("data", as: [UInt8].self) == Self.blob(thread, n))
            }
        }
    }

    @Test("pages committed while a passive pass runs are caught up inside the writers' queue once the WAL passes its limit; the WAL then starts over")
    func catchesUpInTheQueue() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/test.db"
            let passes = Mutex(0)
            let failures = Mutex<[String]>([])
            // After the first passive pass, 100 commits of 16 KiB (some 500 pages) land, as the
            // writers of a busy host commit while a pass syncs.
            let checkpointer = try SQLiteCheckpointer.start(path: path, thresholdPages: 100, limitPages: 400, afterPassivePass: {
                guard passes.withLock({ $0 += 1; return $0 == 1 }) else { return }
                do {
                    let writer = try SQLiteDatabase(path: path)
                    for n in 0..<100 {
                        let data = Self.blob(1, n)
                        try writer.write { try writer.execute("INSERT INTO t VALUES ($1, $2)", [1000 + n, data]) }
                    }
                } catch {
                    failures.withLock { $0.append("\(error)") }
                }
            })
            defer { checkpointer.stop() }
            let db = try SQLiteDatabase(path: path)
            try db.execute("CREATE TABLE t (n INTEGER NOT NULL, data BLOB NOT NULL)")
            // Past the threshold: the thread wakes.
            for n in 0..<30 {
                let data = Self.blob(0, n)
                try db.write { try db.execute("INSERT INTO t VALUES ($1, $2)", [n, data]) }
            }
            for _ in 0..<200 where checkpointer.checkpoints.queued == 0 { usleep(50_000) }
            #expect(failures.withLock { $0 }.isEmpty, "\(failures.withLock { $0 })")
            #expect(checkpointer.checkpoints.queued == 1, "\(checkpointer.checkpoints)")
            // The next commit starts the WAL over: it holds that commit's pages alone.
            try db.write { try db.execute("INSERT INTO t VALUES (-1, x'00')") }
            let log = try #require(try db.queryOne("PRAGMA wal_checkpoint(PASSIVE)"))
            #expect(try log.get("log", as: Int.self) < 10, "\(log)")
            #expect(try db.scalar("SELECT count(*) FROM t", as: Int.self) == 131)
        }
    }

    @Test("once the thread is stopped, the connections it served checkpoint for themselves again")
    func stoppedHandsCheckpointsBack() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/test.db"
            let checkpointer = try SQLiteCheckpointer.start(path: path, thresholdPages: 100, limitPages: 400)
            let db = try SQLiteDatabase(path: path)
            try db.execute("CREATE TABLE t (n INTEGER NOT NULL, data BLOB NOT NULL)")
            checkpointer.stop()
            var largest = 0
            for n in 0..<400 {
                try db.write { try db.execute("INSERT INTO t VALUES ($1, $2)", [n, Self.blob(0, n)]) }
                largest = max(largest, Self.walFrames(path))
            }
            // Each commit past 100 pages checkpoints at once, and the next starts the WAL over.
            #expect(largest < 300, "the WAL reached \(largest) pages")
            #expect(try db.scalar("SELECT count(*) FROM t", as: Int.self) == 400)
        }
    }
}
