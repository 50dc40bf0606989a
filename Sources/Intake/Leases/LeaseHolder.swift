import Sodium

/// Who holds a lease: a process, by its host and pid, and a random token, so that two holders in
/// one process (two threads, two runners) are told apart. Recorded as `host:pid:token`, the one
/// format of every lease and process-bound reservation.
public struct LeaseHolder: Hashable, Sendable, CustomStringConvertible {
    public let host: String
    public let pid: Int32
    /// 12 hex digits; empty for a holder recorded before tokens existed.
    public let token: String

    public init(host: String, pid: Int32, token: String) {
        self.host = host
        self.pid = pid
        self.token = token
    }

    /// A new holder in the name of this process, with a token of its own.
    public init(of process: any ProcessLiveness) {
        self.init(host: process.host, pid: process.pid, token: Sodium.hex(Sodium.randomBytes(6)))
    }

    /// Reads `host:pid:token`, or the `host:pid` of rows from before tokens; nil for anything
    /// else (a holder whose process cannot be named is never taken for dead).
    public init?(_ text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2 || parts.count == 3, !parts[0].isEmpty, let pid = Int32(parts[1]), pid > 0 else { return nil }
        self.init(host: String(parts[0]), pid: pid, token: parts.count == 3 ? String(parts[2]) : "")
    }

    public var description: String { token.isEmpty ? "\(host):\(pid)" : "\(host):\(pid):\(token)" }
}
