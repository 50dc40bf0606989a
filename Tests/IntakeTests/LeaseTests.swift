import Database
import Foundation
@testable import Intake
import Spool
import Synchronization
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// Processes the test declares dead or alive: every holder on host `here` is alive unless its
/// pid was declared dead; holders of other hosts cannot be seen, so they are alive.
final class FakeProcesses: ProcessLiveness {
    let host = "here"
    let pid: Int32 = 100
    private let dead = Mutex<Set<Int32>>([])
    func kill(_ pid: Int32) { dead.withLock { _ = $0.insert(pid) } }
    func isAlive(_ holder: LeaseHolder) -> Bool { holder.host != host || !dead.withLock { $0.contains(holder.pid) } }
}

@Suite("Lease: expiry, renewal races, dead holders, clock jumps, release by the holder only")
struct LeaseTests {
    /// The two ways a lease is kept: a row of its own (jobs, token refresh), or two columns of a
    /// row that exists apart from it (deliveries, reservations).
    enum Shape: String, CustomTestStringConvertible, CaseIterable {
        case ownRow, columns
        var testDescription: String { rawValue }
        var storage: Lease.Storage {
            switch self {
            case .ownRow: return Lease.Storage(table: "named_leases", key: "name", holder: "holder", expires: "expires_at", ownRow: true)
            case .columns: return Lease.Storage(table: "work", key: "id", holder: "lease_holder", expires: "lease_expires", ownRow: false)
            }
        }
        /// What is leased: the name `a`, or the row with id 1.
        var key: any DatabaseValueConvertible { self == .ownRow ? "a" : Int64(1) }
    }

    static let seconds: Int64 = 60

    /// A fresh database file with both kinds of lease table (and the one row the columns lease needs).
    func withLeaseDatabase<T>(_ body: (any Database) throws -> T) throws -> T {
        try withTemporaryDatabase { db in
            try db.executeScript("""
                CREATE TABLE named_leases (name TEXT PRIMARY KEY, holder TEXT NOT NULL, expires_at INTEGER NOT NULL);
                CREATE TABLE work (id INTEGER PRIMARY KEY, lease_holder TEXT, lease_expires INTEGER, done INTEGER NOT NULL DEFAULT 0);
                INSERT INTO work (id) VALUES (1);
                """)
            return try body(db)
        }
    }

    func holder(_ pid: Int32, _ token: String = "t", host: String = "here") -> LeaseHolder { LeaseHolder(host: host, pid: pid, token: token) }

    /// The holder recorded for the shape's key, as the database has it.
    func recorded(_ db: Database, _ shape: Shape) throws -> String? {
        let s = shape.storage
        return try db.scalar("SELECT \(s.holder) FROM \(s.table) WHERE \(s.key) = $1", [shape.key], as: String?.self) ?? nil
    }

    /// Runs `body` on `count` threads of their own, started together; waits for all of them.
    func onThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
        let start = DispatchSemaphore(value: 0)
        let done = DispatchGroup()
        for i in 0..<count {
            done.enter()
            Thread.detachNewThread {
                start.wait()
                body(i)
                done.leave()
            }
        }
        for _ in 0..<count { start.signal() }
        done.wait()
    }

    @Test("one holder until the time is up, renewed while it works; at its expiry the next taker has it and the old holder's renewal fails",
          arguments: Shape.allCases)
    func expiry(shape: Shape) throws {
        try withLeaseDatabase { db throws in
            let clock = ManualClock()
            let lease = Lease(db: db, clock: clock, liveness: FakeProcesses(), storage: shape.storage)
            let a = holder(200, "a"), b = holder(300, "b")
            #expect(try lease.acquire(shape.key, for: a, seconds: Self.seconds))
            #expect(try recorded(db, shape) == "here:200:a", "one format: host:pid:token")
            #expect(try !lease.acquire(shape.key, for: b, seconds: Self.seconds))
            clock.advance(59)
            #expect(try !lease.acquire(shape.key, for: b, seconds: Self.seconds), "one second before its time")
            #expect(try lease.renew(shape.key, for: a, seconds: Self.seconds), "renewed: another 60 s from now")
            clock.advance(59)
            #expect(try lease.isHeld(shape.key) && !lease.acquire(shape.key, for: b, seconds: Self.seconds))
            #expect(try lease.acquire(shape.key, for: a, seconds: Self.seconds), "its holder takes it again: a renewal")
            clock.advance(60)
            #expect(try !lease.isHeld(shape.key), "free at its expiry")
            #expect(try lease.acquire(shape.key, for: b, seconds: Self.seconds))
            #expect(try !lease.renew(shape.key, for: a, seconds: Self.seconds), "the old holder finds out at its next renewal")
            #expect(try recorded(db, shape) == "here:300:b")
        }
    }

    @Test("a lease whose time is up but that nobody took is still its holder's, and renewed", arguments: Shape.allCases)
    func lateRenewal(shape: Shape) throws {
        try withLeaseDatabase { db throws in
            let clock = ManualClock()
            let lease = Lease(db: db, clock: clock, liveness: FakeProcesses(), storage: shape.storage)
            let a = holder(200, "a")
            #expect(try lease.acquire(shape.key, for: a, seconds: Self.seconds))
            clock.advance(600)
            #expect(try !lease.isHeld(shape.key))
            #expect(try lease.renew(shape.key, for: a, seconds: Self.seconds))
            #expect(try lease.isHeld(shape.key) && !lease.acquire(shape.key, for: holder(300, "b"), seconds: Self.seconds))
        }
    }

    @Test("16 threads, each with its own connection to one database file, take, renew and give back one lease 200 times each: never two holders at once",
          arguments: Shape.allCases)
    func exclusiveUnderContention(shape: Shape) throws {
        try withLeaseDatabase { db throws in
            let clock = ManualClock()
            let location = db.location
            let inside = Atomic<Int>(0)
            let overlaps = Atomic<Int>(0)
            let acquisitions = Atomic<Int>(0)
            let failures = Mutex<[String]>([])
            onThreads(16) { i in
                do {
                    let connection = try location.open()
                    let lease = Lease(db: connection, clock: clock, liveness: FakeProcesses(), storage: shape.storage)
                    let me = LeaseHolder(host: "here", pid: Int32(1000 + i), token: "w\(i)")
                    for _ in 0..<200 {
                        guard try lease.acquire(shape.key, for: me, seconds: Self.seconds) else { continue }
                        acquisitions.add(1, ordering: .relaxed)
                        if inside.add(1, ordering: .sequentiallyConsistent).oldValue != 0 { overlaps.add(1, ordering: .relaxed) }
                        for _ in 0..<3 {
                            if try !lease.renew(shape.key, for: me, seconds: Self.seconds) { failures.withLock { $0.append("\(me) lost a lease nobody could take") } }
                        }
                        inside.subtract(1, ordering: .sequentiallyConsistent)
                        if try !lease.release(shape.key, by: me) { failures.withLock { $0.append("\(me) could not give its lease back") } }
                    }
                } catch {
                    failures.withLock { $0.append("\(error)") }
                }
            }
            #expect(failures.withLock { $0 }.isEmpty)
            #expect(overlaps.load(ordering: .relaxed) == 0, "two holders at once")
            #expect(acquisitions.load(ordering: .relaxed) >= 16, "the lease went round")
            #expect(try recorded(db, shape) == nil, "given back at the end")
        }
    }

    @Test("30 rounds: the lease runs out while its holder renews and 15 threads race to take it over; the renewal or exactly one taker wins, never both",
          arguments: Shape.allCases)
    func takeoverRaces(shape: Shape) throws {
        try withLeaseDatabase { db throws in
            let clock = ManualClock()
            let location = db.location
            let holders = (0..<16).map { LeaseHolder(host: "here", pid: Int32(1000 + $0), token: "r\($0)") }
            let first = Lease(db: db, clock: clock, liveness: FakeProcesses(), storage: shape.storage)
            var current = 0
            #expect(try first.acquire(shape.key, for: holders[current], seconds: Self.seconds))
            var renewalsWon = 0, takeovers = 0
            for round in 0..<30 {
                clock.advance(Self.seconds)  // exactly at its expiry: free, and still renewable by its holder
                let renewed = Atomic<Bool>(false)
                let takers = Mutex<[Int]>([])
                let failures = Mutex<[String]>([])
                let holding = current
                onThreads(16) { i in
                    do {
                        let lease = Lease(db: try location.open(), clock: clock, liveness: FakeProcesses(), storage: shape.storage)
                        if i == holding {
                            if try lease.renew(shape.key, for: holders[i], seconds: Self.seconds) { renewed.store(true, ordering: .relaxed) }
                        } else if try lease.acquire(shape.key, for: holders[i], seconds: Self.seconds) {
                            takers.withLock { $0.append(i) }
                        }
                    } catch {
                        failures.withLock { $0.append("\(error)") }
                    }
                }
                let won = takers.withLock { $0 }
                #expect(failures.withLock { $0 }.isEmpty, "round \(round)")
                if renewed.load(ordering: .relaxed) {
                    // The renewal came first: no taker may win, then or after it.
                    #expect(won.isEmpty, "round \(round): renewed, yet taken by \(won)")
                    renewalsWon += 1
                } else {
                    #expect(won.count == 1, "round \(round): taken by \(won)")
                    current = won.first ?? current
                    takeovers += 1
                }
                #expect(try recorded(db, shape) == holders[current].description, "round \(round)")
            }
            #expect(renewalsWon + takeovers == 30)
        }
    }

    @Test("a holder known to be dead loses its lease at once; a live one, one of another host, and one in a format from before LeaseHolder keep theirs until their time is up",
          arguments: Shape.allCases)
    func deadHolders(shape: Shape) throws {
        try withLeaseDatabase { db throws in
            let clock = ManualClock()
            let processes = FakeProcesses()
            let lease = Lease(db: db, clock: clock, liveness: processes, storage: shape.storage)
            let a = holder(200, "a"), b = holder(300, "b")
            #expect(try lease.acquire(shape.key, for: a, seconds: Self.seconds))
            #expect(try !lease.acquire(shape.key, for: b, seconds: Self.seconds), "alive")
            #expect(try lease.holder(of: shape.key) == a.description)
            processes.kill(200)
            #expect(try !lease.isHeld(shape.key) && lease.holder(of: shape.key) == nil)
            #expect(try lease.acquire(shape.key, for: b, seconds: Self.seconds), "taken over before its time")
            #expect(try !lease.renew(shape.key, for: a, seconds: Self.seconds) && !lease.release(shape.key, by: a))

            let s = shape.storage
            for stranger in ["elsewhere:200:x", "here-200", "pid200-12345", "here:200"] {
                try db.execute("UPDATE \(s.table) SET \(s.holder) = $1, \(s.expires) = $2", [stranger, clock.now() + Self.seconds])
                let dead = stranger == "here:200"  // the host:pid of rows from before tokens is read
                #expect(try lease.isHeld(shape.key) == !dead, "\(stranger)")
                #expect(try lease.acquire(shape.key, for: b, seconds: Self.seconds) == dead, "\(stranger)")
            }
            clock.advance(Self.seconds)
            #expect(try lease.acquire(shape.key, for: holder(400, "c"), seconds: Self.seconds), "every lease ends by time")
        }
    }

    @Test("the holders of dead processes are found among many, whatever their time; live ones and other hosts' are not")
    func keysOfTheDead() throws {
        try withLeaseDatabase { db throws in
            let clock = ManualClock()
            let processes = FakeProcesses()
            let lease = Lease(db: db, clock: clock, liveness: processes, storage: Shape.ownRow.storage)
            for (name, pid, host) in [("a", 200, "here"), ("b", 201, "here"), ("c", 200, "elsewhere"), ("d", 202, "here")] as [(String, Int32, String)] {
                #expect(try lease.acquire(name, for: holder(pid, name, host: host), seconds: Self.seconds))
            }
            clock.advance(3600)
            processes.kill(200)
            processes.kill(202)
            #expect(try lease.keysHeldByTheDead(as: String.self).sorted() == ["a", "d"])
        }
    }

    @Test("the clock jumps forward past the expiry: the lease is free at once and its holder's renewal fails; it jumps back: the lease lasts longer, never shorter, and its holder still renews it",
          arguments: Shape.allCases)
    func clockJumps(shape: Shape) throws {
        try withLeaseDatabase { db throws in
            let clock = ManualClock()
            let lease = Lease(db: db, clock: clock, liveness: FakeProcesses(), storage: shape.storage)
            let a = holder(200, "a"), b = holder(300, "b")
            #expect(try lease.acquire(shape.key, for: a, seconds: Self.seconds))
            clock.advance(24 * 3600)
            #expect(try lease.acquire(shape.key, for: b, seconds: Self.seconds))
            #expect(try !lease.renew(shape.key, for: a, seconds: Self.seconds))

            clock.advance(-3600)
            #expect(try lease.isHeld(shape.key), "an hour back: still held, for an hour and a minute")
            #expect(try !lease.acquire(shape.key, for: a, seconds: Self.seconds))
            clock.advance(3600 + Self.seconds - 1)
            #expect(try !lease.acquire(shape.key, for: a, seconds: Self.seconds), "not shorter: until its recorded expiry")
            clock.advance(-3600)
            #expect(try lease.renew(shape.key, for: b, seconds: Self.seconds), "its holder renews by the clock as it now reads")
            clock.advance(Self.seconds - 1)
            #expect(try !lease.acquire(shape.key, for: a, seconds: Self.seconds))
            clock.advance(1)
            #expect(try lease.acquire(shape.key, for: a, seconds: Self.seconds))
        }
    }

    @Test("only its holder gives a lease back; after that it is free, and giving it back again does nothing", arguments: Shape.allCases)
    func releaseByHolderOnly(shape: Shape) throws {
        try withLeaseDatabase { db throws in
            let clock = ManualClock()
            let lease = Lease(db: db, clock: clock, liveness: FakeProcesses(), storage: shape.storage)
            let a = holder(200, "a"), sameProcess = holder(200, "other thread"), b = holder(300, "b")
            #expect(try lease.acquire(shape.key, for: a, seconds: Self.seconds))
            #expect(try !lease.acquire(shape.key, for: sameProcess, seconds: Self.seconds), "a holder of its own, though in the same process")
            #expect(try !lease.release(shape.key, by: b) && !lease.release(shape.key, by: sameProcess))
            #expect(try lease.isHeld(shape.key) && recorded(db, shape) == a.description)
            #expect(try lease.release(shape.key, by: a))
            #expect(try !lease.isHeld(shape.key) && recorded(db, shape) == nil)
            #expect(try !lease.release(shape.key, by: a))
            if shape == .ownRow {
                #expect(try db.scalar("SELECT count(*) FROM named_leases", as: Int.self) == 0, "its row goes")
            } else {
                #expect(try db.scalar("SELECT count(*) FROM work", as: Int.self) == 1, "the row it was over stays")
            }
            #expect(try lease.acquire(shape.key, for: b, seconds: Self.seconds))
        }
    }

    @Test("a lease of columns needs its row: none, no lease")
    func columnsNeedTheirRow() throws {
        try withLeaseDatabase { db throws in
            let lease = Lease(db: db, clock: ManualClock(), liveness: FakeProcesses(), storage: Shape.columns.storage)
            #expect(try !lease.acquire(Int64(2), for: holder(200), seconds: Self.seconds))
            #expect(try db.scalar("SELECT count(*) FROM work", as: Int.self) == 1)
        }
    }

    @Test("the four leases over Intake's schema: jobs, token refresh, delivery, quota reservation")
    func intakeLeases() throws {
        try withDatabase { db throws in
            // Rows without their parents: references are not checked for this test.
            try db.execute(db.dialect == .sqlite ? "PRAGMA foreign_keys = OFF" : "SET session_replication_role = replica")
            try db.executeScript("""
                INSERT INTO file_uploads (id, portal_id, user_id, file_name, size_bytes, status, created_at, updated_at) VALUES (5, 1, 1, 'f', 0, 'delivering', 0, 0);
                INSERT INTO upload_reservations (id, user_id, bytes, created_at, expires_at) VALUES (3, 1, 10, 0, 0);
                """)
            let clock = ManualClock()
            let processes = FakeProcesses()
            let a = holder(200, "a"), b = holder(300, "b")
            let cases: [(Lease.Storage, any DatabaseValueConvertible)] = [
                (Jobs.lease, "jobs"), (AccessTokens.leaseStorage, Int64(7)), (Deliveries.leaseStorage, Int64(5)), (QuotaReservations.leaseStorage, Int64(3)),
            ]
            for (storage, key) in cases {
                let lease = Lease(db: db, clock: clock, liveness: processes, storage: storage)
                #expect(try lease.acquire(key, for: a, seconds: Self.seconds), "\(storage.table)")
                #expect(try !lease.acquire(key, for: b, seconds: Self.seconds) && lease.renew(key, for: a, seconds: Self.seconds), "\(storage.table)")
                #expect(try lease.release(key, by: a) && lease.acquire(key, for: b, seconds: Self.seconds), "\(storage.table)")
            }
            // What `intake restore` asks before it replaces the database: who runs the jobs on it.
            #expect(try Jobs.runner(db: db, clock: clock, liveness: processes) == b.description)
            processes.kill(300)
            #expect(try Jobs.runner(db: db, clock: clock, liveness: processes) == nil)
        }
    }

    @Test("this host's real processes: a child that has exited is gone; the parent, this process and another host's are not")
    func localProcesses() throws {
        let processes = LocalProcesses()
        var pid: pid_t = 0
        var argv: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/true"), nil]
        defer { free(argv[0]) }
        #expect(posix_spawn(&pid, "/bin/true", nil, nil, &argv, environ) == 0)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        #expect(!processes.isAlive(LeaseHolder(host: processes.host, pid: pid, token: "")))
        #expect(processes.isAlive(LeaseHolder(host: processes.host, pid: getppid(), token: "")))
        #expect(processes.isAlive(LeaseHolder(of: processes)))
        #expect(processes.isAlive(LeaseHolder(host: processes.host + "-elsewhere", pid: pid, token: "")), "another host's processes cannot be seen")
        #expect(LeaseHolder(of: processes).description.split(separator: ":").count == 3)
    }

    @Test("a child that has died but is not yet reaped (a zombie) has exited: its lease is free before its parent collects it")
    func zombieHasExited() throws {
        let processes = LocalProcesses()
        var pid: pid_t = 0
        var argv: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/true"), nil]
        defer { free(argv[0]) }
        #expect(posix_spawn(&pid, "/bin/true", nil, nil, &argv, environ) == 0)
        // Not reaped yet: the child stays a zombie, which still answers kill(pid, 0).
        var info = siginfo_t()
        #expect(waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) == 0)
        #expect(kill(pid, 0) == 0, "a zombie answers kill")
        #expect(processes.hasExited(host: processes.host, pid: pid))
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        #expect(processes.hasExited(host: processes.host, pid: pid))
    }
}
