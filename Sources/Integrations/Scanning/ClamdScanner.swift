import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A virus scan's verdict.
public enum ScanVerdict: Sendable, Equatable {
    case clean
    /// The signature name clamd reported.
    case infected(String)
}

/// A scanner that cannot give a verdict (down, refused, timed out): uploads that need a scan
/// fail closed on it.
public struct ScannerUnavailable: Error, CustomStringConvertible, Sendable {
    public let reason: String
    /// Whether asking again soon may succeed: clamd could not be reached, or the connection broke
    /// (clamd restarting); not when clamd answered with an error or the file could not be read.
    public let retryable: Bool
    public init(reason: String, retryable: Bool = true) {
        self.reason = reason
        self.retryable = retryable
    }
    public var description: String { "virus scanner unavailable: \(reason)" }
}

/// clamd over its unix socket with the `INSTREAM` command (clamd(8)): the file goes in chunks of
/// `<4-byte big-endian length><bytes>`, a zero-length chunk ends it, and clamd answers
/// `stream: OK` or `stream: <signature> FOUND`. The file is read from the spool a chunk at a time.
public struct ClamdScanner: Sendable {
    public let socketPath: String
    public let timeoutSeconds: Int
    /// clamd's StreamMaxLength refuses larger streams; chunks stay well under its default.
    static let chunkBytes = 256 * 1024

    public init(socketPath: String, timeoutSeconds: Int = 120) {
        self.socketPath = socketPath
        self.timeoutSeconds = timeoutSeconds
    }

    /// Scans `length` bytes of the file at `path`.
    public func scan(path: String, length: Int64) throws -> ScanVerdict {
        let fd = try connect()
        defer { close(fd) }
        try send(fd, Array("zINSTREAM\0".utf8))
        let file = open(path, O_RDONLY | O_CLOEXEC)
        guard file >= 0 else { throw ScannerUnavailable(reason: "cannot open the file to scan (errno \(errno))", retryable: false) }
        defer { close(file) }
        var buffer = [UInt8](repeating: 0, count: Self.chunkBytes)
        var remaining = length
        while remaining > 0 {
            let n = buffer.withUnsafeMutableBytes { read(file, $0.baseAddress, min($0.count, Int(remaining))) }
            guard n > 0 else { throw ScannerUnavailable(reason: "the file ended early", retryable: false) }
            let size = UInt32(n).bigEndian
            try send(fd, withUnsafeBytes(of: size) { Array($0) } + buffer[0..<n])
            remaining -= Int64(n)
        }
        try send(fd, [0, 0, 0, 0])
        let reply = try receiveReply(fd)
        if reply.hasSuffix("OK") { return .clean }
        if reply.hasSuffix("FOUND") {
            let body = reply.dropFirst("stream: ".count).dropLast(" FOUND".count)
            return .infected(String(body))
        }
        throw ScannerUnavailable(reason: "clamd answered \(reply.prefix(200))", retryable: false)
    }

    /// Whether clamd answers `PING` with `PONG`.
    public func ping() -> Bool {
        guard let fd = try? connect() else { return false }
        defer { close(fd) }
        guard (try? send(fd, Array("zPING\0".utf8))) != nil else { return false }
        return (try? receiveReply(fd)) == "PONG"
    }

    private func connect() throws -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw ScannerUnavailable(reason: "socket (errno \(errno))") }
        var tv = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(socketPath.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: addr.sun_path) else { close(fd); throw ScannerUnavailable(reason: "socket path too long") }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard rc == 0 else {
            let e = errno
            close(fd)
            throw ScannerUnavailable(reason: "cannot reach clamd at \(socketPath) (errno \(e))")
        }
        return fd
    }

    private func send(_ fd: Int32, _ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw ScannerUnavailable(reason: "clamd closed the connection (errno \(errno))") }
            offset += n
        }
    }

    /// A reply ends with NUL (the `z` command prefix asks for NUL-terminated replies).
    private func receiveReply(_ fd: Int32) throws -> String {
        var reply: [UInt8] = []
        var byte: UInt8 = 0
        while reply.count < 4096 {
            let n = recv(fd, &byte, 1, 0)
            guard n == 1 else { throw ScannerUnavailable(reason: "no answer from clamd (errno \(errno))") }
            if byte == 0 { break }
            reply.append(byte)
        }
        return String(decoding: reply, as: UTF8.self)
    }
}
