#if canImport(Glibc)
import Glibc
#endif

/// What the metrics report of a process on this host.
public enum ProcessFigures {
    private static let pageSize = Int64(sysconf(Int32(_SC_PAGESIZE)))

    /// The resident memory of process `pid` in bytes (`/proc/<pid>/statm`'s second field, in
    /// pages), or nil when there is no such process.
    public static func residentBytes(of pid: Int32) -> Int64? {
        guard pid > 0 else { return nil }
        let fd = open("/proc/\(pid)/statm", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 128)
        let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard count > 0 else { return nil }
        // "size resident shared text lib data dt", each a number of pages.
        let fields = buffer[..<count].split(separator: UInt8(ascii: " "))
        guard fields.count > 1, let pages = Int64(String(decoding: fields[1], as: UTF8.self)) else { return nil }
        return pages * pageSize
    }
}
