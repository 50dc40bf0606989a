import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A minimal SMTP server on loopback that accepts every message and keeps it, for tests of the
/// mail outbox. It speaks enough of RFC 5321 for libcurl: EHLO/HELO, MAIL, RCPT, DATA, RSET,
/// NOOP, QUIT.
public final class SMTPSink: @unchecked Sendable {  // fd set once; messages behind a Mutex
    public struct Message: Sendable {
        public let from: String
        public let to: [String]
        public let data: String
    }

    public let port: UInt16
    private let fd: Int32
    private let received = Mutex<[Message]>([])
    private let running = Mutex(true)

    public init(port requested: UInt16 = 0) throws {
        (fd, port) = try LoopbackListener.open(port: requested, backlog: 16, what: "SMTP sink")
        Thread { [self] in acceptLoop() }.start()
    }

    public var messages: [Message] { received.withLock { $0 } }
    public var url: String { "smtp://127.0.0.1:\(port)" }

    public func stop() {
        guard running.withLock({ r in defer { r = false }; return r }) else { return }
        shutdown(fd, Int32(SHUT_RDWR))
        close(fd)
    }

    private func acceptLoop() {
        while running.withLock({ $0 }) {
            let client = accept(fd, nil, nil)
            if client < 0 { if errno == EINTR { continue } else { return } }
            Thread { [self] in session(client) }.start()
        }
    }

    private func session(_ client: Int32) {
        defer { close(client) }
        var buffer: [UInt8] = []
        func line() -> String? {
            while true {
                if let i = buffer.firstIndex(of: 10) {
                    let l = String(decoding: buffer[0..<i], as: UTF8.self).trimmingCharacters(in: CharacterSet(charactersIn: "\r"))
                    buffer.removeSubrange(0...i)
                    return l
                }
                var chunk = [UInt8](repeating: 0, count: 4096)
                let n = recv(client, &chunk, chunk.count, 0)
                guard n > 0 else { return nil }
                buffer += chunk[0..<n]
            }
        }
        func reply(_ text: String) { _ = Array((text + "\r\n").utf8).withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } }
        reply("220 intake-test-sink ESMTP")
        var from = ""
        var to: [String] = []
        while let command = line() {
            let upper = command.uppercased()
            if upper.hasPrefix("EHLO") { reply("250-intake-test-sink"); reply("250 8BITMIME") }
            else if upper.hasPrefix("HELO") { reply("250 intake-test-sink") }
            else if upper.hasPrefix("MAIL FROM:") { from = String(command.dropFirst(10)).trimmingCharacters(in: CharacterSet(charactersIn: "<> ")); to = []; reply("250 OK") }
            else if upper.hasPrefix("RCPT TO:") { to.append(String(command.dropFirst(8)).trimmingCharacters(in: CharacterSet(charactersIn: "<> "))); reply("250 OK") }
            else if upper == "DATA" {
                reply("354 End data with <CR><LF>.<CR><LF>")
                var lines: [String] = []
                while let l = line(), l != "." { lines.append(l.hasPrefix("..") ? String(l.dropFirst()) : l) }
                received.withLock { $0.append(Message(from: from, to: to, data: lines.joined(separator: "\n"))) }
                reply("250 OK queued")
            } else if upper == "QUIT" { reply("221 Bye"); return }
            else if upper == "RSET" || upper == "NOOP" { reply("250 OK") }
            else { reply("502 Command not implemented") }
        }
    }
}
