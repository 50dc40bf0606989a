import Spool

/// Which processes are still running, as leases held in a process's name need to know: a lease
/// whose holder is known to be gone is free before its time is up, so a crashed worker's work is
/// taken over at once. Injected, so tests decide who is alive.
public protocol ProcessLiveness: Sendable {
    /// This host's name, as holders record it.
    var host: String { get }
    /// This process's id.
    var pid: Int32 { get }
    /// Whether `holder`'s process may still be running: false only when it is known to be gone (a
    /// process of this host that no longer exists). Another host's processes cannot be seen from
    /// here: they count as alive, and their leases end by time.
    func isAlive(_ holder: LeaseHolder) -> Bool
}

/// The processes of this host, as the operating system knows them (`kill(pid, 0)`).
extension LocalProcesses: ProcessLiveness {
    public func isAlive(_ holder: LeaseHolder) -> Bool { !hasExited(host: holder.host, pid: holder.pid) }
}
