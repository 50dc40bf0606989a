import Spool

/// The time, in whole seconds since the Unix epoch (UTC). Injected so rules that depend on time
/// (session expiry, sign-in throttling, purchase expiry) are tested with a manual clock.
public protocol Clock: Sendable {
    func now() -> Int64
    /// Lets `milliseconds` pass (a manual clock in tests just moves on).
    func pause(milliseconds: Int)
}

/// The system's wall clock.
public struct SystemClock: Clock {
    public init() {}
    public func now() -> Int64 { WallClock.secondsSinceEpoch() }
    public func pause(milliseconds: Int) { WallClock.sleep(milliseconds: milliseconds) }
}
