#if canImport(Glibc)
import Glibc
#endif

/// The processes of this host, as leases held in a process's name see them: this host's name,
/// this process's id, and whether a process of this host has exited.
public struct LocalProcesses: Sendable {
    public init() {}

    /// This host's name (gethostname(2)), read once.
    public static let hostName: String = {
        var name = [CChar](repeating: 0, count: 256)
        // The name may be cut at the buffer's end without a terminator: the last byte stays 0.
        gethostname(&name, name.count - 1)
        return String(cString: name)
    }()

    public var host: String { Self.hostName }

    /// This process's id (read each time: a forked child has its own).
    public var pid: Int32 { getpid() }

    /// Whether process `pid` of `host` has certainly exited. Only this host's processes can be
    /// asked: `kill(pid, 0)` sends nothing and fails with `ESRCH` when "no process or process
    /// group can be found corresponding to that specified by pid" (POSIX); `EPERM` means it exists
    /// under another user. A zombie — dead, but not yet reaped by its parent (an orphan waits for
    /// init, a second or so) — still answers `kill`, so its state in `/proc/<pid>/stat` is read
    /// too: `Z` (or `X`) has exited. A process of another host is never known to have exited.
    public func hasExited(host: String, pid: Int32) -> Bool {
        guard host == Self.hostName, pid > 0 else { return false }
        if kill(pid, 0) == -1 { return errno == ESRCH }
        return Self.isZombie(pid)
    }

    /// Whether `/proc/<pid>/stat` says the process is dead (`Z` zombie, `X` dead): the state is
    /// the field after the command's closing parenthesis (the command may itself hold one).
    static func isZombie(_ pid: Int32) -> Bool {
        let fd = open("/proc/\(pid)/stat", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 512)
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard n > 0, let paren = buffer[..<n].lastIndex(of: UInt8(ascii: ")")), paren + 2 < n else { return false }
        let state = buffer[paren + 2]
        return state == UInt8(ascii: "Z") || state == UInt8(ascii: "X")
    }
}
