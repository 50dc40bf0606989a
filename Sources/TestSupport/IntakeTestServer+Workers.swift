import Foundation
#if canImport(Glibc)
import Glibc
#endif

extension IntakeTestServer {
    /// Kills worker `pid` with SIGKILL and waits, up to five seconds, until the supervisor has as
    /// many workers as before again, `pid` not among them; answers the workers then.
    public func killWorker(_ pid: Int32) -> [Int32] {
        let count = workerPIDs().count
        kill(pid, SIGKILL)
        var workers: [Int32] = []
        for _ in 0..<100 {
            usleep(50_000)
            workers = workerPIDs()
            if workers.count == count && !workers.contains(pid) { break }
        }
        return workers
    }
}
