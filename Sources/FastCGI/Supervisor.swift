import Logging
#if canImport(Glibc)
import Glibc
#endif

/// `intake serve`: owns the listening socket and keeps `workers` worker processes running on it.
///
/// - A worker that dies is replaced within a second, and the log says why (exit code or signal).
/// - SIGTERM/SIGINT: the socket is closed here, every worker drains (up to `shutdownGrace`
///   seconds) and the supervisor exits 0.
/// - SIGHUP: workers are replaced one at a time; each new one is ready (it says so on a pipe)
///   before the old one is told to drain, so some worker is always accepting.
///
/// Signals are blocked and taken synchronously with `sigtimedwait`: no handler runs Swift code.
public final class Supervisor {
    /// How to start one worker process.
    public struct WorkerCommand: Sendable {
        /// The executable (usually this binary, `/proc/self/exe`).
        public var executable: String
        /// argv, including argv[0].
        public var arguments: [String]
        public init(executable: String, arguments: [String]) {
            self.executable = executable
            self.arguments = arguments
        }
    }

    private struct Worker {
        let slot: Int
        let pid: pid_t
        let started: Double
    }

    private let socket: ListenSocket
    private let command: WorkerCommand
    private let workerCount: Int
    private let shutdownGrace: Double
    private let logger: Logger
    private var workers: [pid_t: Worker] = [:]
    /// Workers told to stop, whose exit is expected.
    private var retiring: Set<pid_t> = []

    /// The environment variable naming the fd on which a worker reports readiness.
    public static let readyFDVariable = "INTAKE_READY_FD"

    public init(socket: ListenSocket, command: WorkerCommand, workers: Int, shutdownGrace: Double, logger: Logger) {
        self.socket = socket
        self.command = command
        self.workerCount = workers
        self.shutdownGrace = shutdownGrace
        self.logger = logger
    }

    /// Blocks the signals the supervisor takes synchronously. Call first thing in the process,
    /// before any thread exists, so that every later thread inherits the mask.
    public static func blockSignals() {
        var set = signalSet([SIGTERM, SIGINT, SIGHUP, SIGCHLD])
        pthread_sigmask(SIG_BLOCK, &set, nil)
        signal(SIGPIPE, SIG_IGN)
    }

    /// Runs until SIGTERM/SIGINT; returns the exit code.
    public func run() -> Int32 {
        for slot in 0..<workerCount {
            guard spawn(slot: slot, waitReady: true) != nil else {
                logger.critical("worker \(slot) did not start; stopping")
                stopAll()
                return 1
            }
        }
        logger.info("serving", metadata: ["listen": "\(socket.address)", "workers": "\(workerCount)"])
        while true {
            let signal = waitForSignal([SIGTERM, SIGINT, SIGHUP, SIGCHLD], timeout: 0.5)
            reapAndRestart()
            switch signal {
            case SIGTERM, SIGINT:
                logger.info("stopping: draining workers", metadata: ["grace_s": "\(shutdownGrace)"])
                stopAll()
                logger.info("stopped")
                return 0
            case SIGHUP:
                roll()
            default:
                break
            }
        }
    }

    /// Starts a worker for `slot`. With `waitReady`, waits until it reports ready (or dies).
    @discardableResult
    private func spawn(slot: Int, waitReady: Bool) -> pid_t? {
        var pipeFDs: [Int32] = [0, 0]
        guard pipe(&pipeFDs) == 0 else {
            logger.error("pipe failed: errno \(errno)")
            return nil
        }
        // Close-on-exec so no worker inherits another's pipe; the supervisor has one thread, so
        // nothing can fork between pipe and fcntl.
        _ = fcntl(pipeFDs[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(pipeFDs[1], F_SETFD, FD_CLOEXEC)
        defer { close(pipeFDs[0]) }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, socket.fd, 0)   // FastCGI: the socket is fd 0
        posix_spawn_file_actions_adddup2(&actions, pipeFDs[1], 3)  // readiness
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var empty = signalSet([])
        var defaults = signalSet([SIGTERM, SIGINT, SIGHUP, SIGCHLD, SIGPIPE, SIGUSR1])
        posix_spawnattr_setsigmask(&attr, &empty)
        posix_spawnattr_setsigdefault(&attr, &defaults)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        var environment = currentEnvironment().filter {
            !$0.hasPrefix(Self.readyFDVariable + "=") && !$0.hasPrefix("INTAKE_WORKER_SLOT=")
        }
        environment.append("\(Self.readyFDVariable)=3")
        environment.append("INTAKE_WORKER_SLOT=\(slot)")
        let argv = command.arguments.map { strdup($0) } + [nil]
        let envp = environment.map { strdup($0) } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, command.executable, &actions, &attr, argv, envp)
        close(pipeFDs[1])
        guard rc == 0 else {
            logger.error("cannot start worker: posix_spawn failed with \(rc)")
            return nil
        }
        workers[pid] = Worker(slot: slot, pid: pid, started: monotonicSeconds())
        logger.info("worker started", metadata: ["slot": "\(slot)", "pid": "\(pid)"])
        if waitReady {
            var poller = pollfd(fd: pipeFDs[0], events: Int16(POLLIN), revents: 0)
            var byte: UInt8 = 0
            let ready = poll(&poller, 1, 30_000) == 1 && read(pipeFDs[0], &byte, 1) == 1
            if !ready {
                logger.error("worker did not report ready", metadata: ["slot": "\(slot)", "pid": "\(pid)"])
                return nil
            }
        }
        return pid
    }

    /// Collects exited workers; restarts those that were not told to stop.
    private func reapAndRestart() {
        while true {
            var status: Int32 = 0
            let pid = waitpid(-1, &status, WNOHANG)
            guard pid > 0 else { return }
            guard let worker = workers.removeValue(forKey: pid) else { continue }
            if retiring.remove(pid) != nil { continue }
            logger.error("worker died; restarting", metadata: [
                "slot": "\(worker.slot)", "pid": "\(pid)", "reason": "\(Self.describe(status))",
            ])
            // A worker that dies at once is crash-looping; pause so the log stays readable.
            if monotonicSeconds() - worker.started < 1 { usleep(500_000) }
            spawn(slot: worker.slot, waitReady: false)
        }
    }

    /// Replaces every worker, one at a time, without a moment with no worker accepting.
    private func roll() {
        logger.info("reloading: replacing workers one at a time")
        for old in workers.values.sorted(by: { $0.slot < $1.slot }) {
            guard spawn(slot: old.slot, waitReady: true) != nil else {
                logger.error("replacement worker did not start; keeping the old one", metadata: ["slot": "\(old.slot)"])
                continue
            }
            retiring.insert(old.pid)
            kill(old.pid, SIGTERM)
            waitForExit([old.pid], deadline: monotonicSeconds() + shutdownGrace + 1)
        }
        logger.info("reload complete")
    }

    private func stopAll() {
        socket.closeAndRemove()
        let pids = Array(workers.keys)
        for pid in pids {
            retiring.insert(pid)
            kill(pid, SIGTERM)
        }
        waitForExit(pids, deadline: monotonicSeconds() + shutdownGrace + 1)
        for pid in workers.keys {
            logger.warning("worker did not stop within the grace period; killing", metadata: ["pid": "\(pid)"])
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
        workers.removeAll()
    }

    /// Waits until every pid in `pids` has exited or the deadline passes, reaping others as it goes.
    private func waitForExit(_ pids: [pid_t], deadline: Double) {
        var remaining = Set(pids)
        while !remaining.isEmpty && monotonicSeconds() < deadline {
            var status: Int32 = 0
            let pid = waitpid(-1, &status, WNOHANG)
            if pid > 0 {
                if remaining.remove(pid) != nil {
                    workers.removeValue(forKey: pid)
                    retiring.remove(pid)
                } else if let worker = workers.removeValue(forKey: pid), retiring.remove(pid) == nil {
                    logger.error("worker died; restarting", metadata: ["slot": "\(worker.slot)", "pid": "\(pid)", "reason": "\(Self.describe(status))"])
                    spawn(slot: worker.slot, waitReady: false)
                }
                continue
            }
            usleep(10_000)
        }
    }

    /// "exit code 3" or "signal 9 (SIGKILL)".
    static func describe(_ status: Int32) -> String {
        let signal = status & 0x7f
        if signal == 0 { return "exit code \((status >> 8) & 0xff)" }
        let names: [Int32: String] = [SIGKILL: "SIGKILL", SIGSEGV: "SIGSEGV", SIGABRT: "SIGABRT", SIGTERM: "SIGTERM",
                                      SIGILL: "SIGILL", SIGBUS: "SIGBUS", SIGTRAP: "SIGTRAP", SIGINT: "SIGINT"]
        return "signal \(signal)" + (names[signal].map { " (\($0))" } ?? "")
    }

    private func currentEnvironment() -> [String] {
        var result: [String] = []
        var p = environ
        while let entry = p.pointee {
            result.append(String(cString: entry))
            p += 1
        }
        return result
    }
}

/// Tells the supervisor that this worker is ready, through the fd it passed (see `Supervisor`).
public func reportWorkerReady(environment: [String: String]) {
    guard let text = environment[Supervisor.readyFDVariable], let fd = Int32(text) else { return }
    var byte: UInt8 = 1
    _ = write(fd, &byte, 1)
    close(fd)
}
