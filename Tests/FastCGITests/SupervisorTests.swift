@testable import FastCGI
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite("Supervisor helpers")
struct SupervisorTests {
    @Test("a worker's wait status in words: its exit code, or the signal that ended it by name", arguments: [
        (Int32(0), "exit code 0"),
        (3 << 8, "exit code 3"),
        (255 << 8, "exit code 255"),
        (SIGKILL, "signal 9 (SIGKILL)"),
        (SIGSEGV | 0x80, "signal 11 (SIGSEGV)"),  // with the core-dumped flag
        (SIGABRT, "signal 6 (SIGABRT)"),
        (SIGUSR1, "signal 10"),
    ])
    func describe(status: Int32, expected: String) {
        #expect(Supervisor.describe(status) == expected)
    }

    @Test("a worker reports ready with one byte on the fd the supervisor named, and closes it")
    func readiness() throws {
        var fds: [Int32] = [0, 0]
        try #require(pipe(&fds) == 0)
        defer { close(fds[0]) }
        reportWorkerReady(environment: [Supervisor.readyFDVariable: String(fds[1])])
        var byte: UInt8 = 0
        #expect(read(fds[0], &byte, 1) == 1 && byte == 1)
        #expect(read(fds[0], &byte, 1) == 0, "end of file: the worker closed its end")
        // Started by hand, not by the supervisor: nothing to report, nothing happens.
        reportWorkerReady(environment: [:])
        reportWorkerReady(environment: [Supervisor.readyFDVariable: "not a number"])
    }
}

@Suite("Threads, signals and time")
struct ThreadsTests {
    @Test("a started thread runs its closure once and can be joined")
    func startThread() throws {
        let ran = Counter()
        let thread = try FastCGI.startThread { ran.increment() }
        #expect(pthread_join(thread, nil) == 0)
        #expect(ran.value == 1)
    }

    @Test("a signal set holds exactly the signals listed")
    func signalSet() {
        var set = FastCGI.signalSet([SIGTERM, SIGHUP])
        #expect(sigismember(&set, SIGTERM) == 1 && sigismember(&set, SIGHUP) == 1)
        #expect(sigismember(&set, SIGINT) == 0 && sigismember(&set, SIGCHLD) == 0)
    }

    @Test("waiting for a signal that does not come returns nil after the timeout; the monotonic clock moves forward")
    func waitTimesOut() {
        let start = monotonicSeconds()
        #expect(waitForSignal([SIGUSR2], timeout: 0.05) == nil)
        let waited = monotonicSeconds() - start
        #expect(waited >= 0.04 && waited < 5, "\(waited) s")
    }
}

/// A count shared with another thread.
final class Counter: Sendable {
    private let count = Mutex(0)
    func increment() { count.withLock { $0 += 1 } }
    var value: Int { count.withLock { $0 } }
}
