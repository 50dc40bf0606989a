#if canImport(Glibc)
import Glibc
#endif

/// Free loopback TCP ports, found by binding port 0 and reading what the kernel chose.
public enum FreePort {
    public static func find() -> UInt16 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                _ = bind(fd, $0, length)
                _ = getsockname(fd, $0, &length)
            }
        }
        return UInt16(bigEndian: addr.sin_port)
    }
}

/// A listening TCP socket on 127.0.0.1: the base of the tests' loopback servers.
enum LoopbackListener {
    /// Binds `port` (0: one the kernel picks) and listens; returns the socket and the port.
    static func open(port requested: UInt16 = 0, backlog: Int32, what: String) throws -> (fd: Int32, port: UInt16) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = requested.bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { p in
                bind(fd, p, length) == 0 && listen(fd, backlog) == 0 && getsockname(fd, p, &length) == 0
            }
        }
        guard ok else {
            let code = errno
            close(fd)
            throw LaunchError("\(what): bind/listen failed (errno \(code))")
        }
        return (fd, UInt16(bigEndian: addr.sin_port))
    }
}
