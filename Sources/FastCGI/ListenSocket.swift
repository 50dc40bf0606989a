#if canImport(Glibc)
import Glibc
#endif

/// Where the FastCGI socket listens: a unix socket path, or a loopback TCP port.
public enum ListenAddress: Sendable, Equatable, CustomStringConvertible {
    case unix(path: String)
    case tcp(host: String, port: UInt16)

    /// Parses `INTAKE_LISTEN`: `127.0.0.1:9000` for TCP, anything else is a socket path.
    public static func parse(_ text: String) -> ListenAddress? {
        if let colon = text.lastIndex(of: ":"), !text.hasPrefix("/"), !text.hasPrefix(".") {
            let host = String(text[..<colon])
            let port = UInt16(text[text.index(after: colon)...]).flatMap { $0 > 0 ? $0 : nil }
            var addr = in_addr()
            // An IPv4 host must come with a real port: a typo there is an error, never a file name.
            if inet_pton(AF_INET, host, &addr) == 1 { return port.map { .tcp(host: host, port: $0) } }
            if port != nil { return nil }
        }
        return text.isEmpty ? nil : .unix(path: text)
    }

    /// What nginx's `fastcgi_pass` takes: `unix:/path` or `127.0.0.1:9000`.
    public var nginxUpstream: String {
        switch self {
        case .unix(let path): return "unix:\(path)"
        case .tcp(let host, let port): return "\(host):\(port)"
        }
    }

    public var description: String {
        switch self {
        case .unix(let path): return path
        case .tcp(let host, let port): return "\(host):\(port)"
        }
    }
}

/// A listening socket owned by the supervisor and shared with its workers as their fd 0.
public final class ListenSocket {
    /// The descriptor.
    public let fd: Int32
    /// Where it listens.
    public let address: ListenAddress

    /// Binds and listens. A unix path left by a dead server is replaced; one that a live server
    /// still answers on is an error, so two supervisors never share a path by accident.
    public init(_ address: ListenAddress, backlog: Int32 = 1024) throws {
        self.address = address
        switch address {
        case .unix(let path):
            if Self.isLiveUnixSocket(path) {
                throw FastCGIError.system("another server is listening on \(path)", errno: EADDRINUSE)
            }
            // The address first: a path that cannot be one leaves no socket open behind.
            var addr = try Self.unixAddress(path)
            unlink(path)
            fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { throw FastCGIError.system("socket", errno: errno) }
            let rc = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            guard rc == 0 else { let e = errno; close(fd); throw FastCGIError.system("bind \(path)", errno: e) }
            // Owner and group only: nginx reaches it by running as the same user or group.
            chmod(path, 0o660)
        case .tcp(let host, let port):
            fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { throw FastCGIError.system("socket", errno: errno) }
            var one: Int32 = 1
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_port = port.bigEndian
            inet_pton(AF_INET, host, &addr.sin_addr)
            let rc = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard rc == 0 else { let e = errno; close(fd); throw FastCGIError.system("bind \(host):\(port)", errno: e) }
        }
        guard listen(fd, backlog) == 0 else { let e = errno; close(fd); throw FastCGIError.system("listen", errno: e) }
    }

    /// Closes the socket and removes a unix socket's path.
    public func closeAndRemove() {
        Glibc.close(fd)
        if case .unix(let path) = address { unlink(path) }
    }

    static func unixAddress(_ path: String) throws -> sockaddr_un {
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: addr.sun_path)
        guard bytes.count < capacity else {
            throw FastCGIError.system("socket path longer than \(capacity - 1) bytes: \(path)", errno: ENAMETOOLONG)
        }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        return addr
    }

    static func isLiveUnixSocket(_ path: String) -> Bool {
        guard var addr = try? unixAddress(path) else { return false }
        let s = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard s >= 0 else { return false }
        defer { Glibc.close(s) }
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(s, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        return rc == 0
    }
}
