import Foundation
#if canImport(Glibc)
import Glibc
#endif

extension IntakeTestServer {
    /// Kills worker `pid` with SIGKILL and waits, up to five seconds, until the supervisor has as
    /// many workers as before again, `pid` not among them, and each new one has taken its slot of
    /// the shared counters (it maps `metrics.counters` as it starts, before it serves; a process
    /// that exists may still be loading its templates); answers the workers then.
    public func killWorker(_ pid: Int32) -> [Int32] {
        let before = workerPIDs()
        kill(pid, SIGKILL)
        var workers: [Int32] = []
        for _ in 0..<100 {
            usleep(50_000)
            workers = workerPIDs()
            if workers.count == before.count && !workers.contains(pid)
                && workers.filter({ !before.contains($0) }).allSatisfy(Self.hasTakenItsSlot) { break }
        }
        return workers
    }

    /// Whether worker `pid` has mapped the shared counters' file.
    static func hasTakenItsSlot(_ pid: Int32) -> Bool {
        ((try? String(contentsOfFile: "/proc/\(pid)/maps", encoding: .utf8)) ?? "").contains("/metrics.counters")
    }
}
