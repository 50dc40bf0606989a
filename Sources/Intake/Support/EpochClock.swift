import Spool

/// The time, in whole seconds since the Unix epoch (UTC); named so it never shadows the standard
/// library's `Clock`. Injected so rules that depend on time
/// (session expiry, sign-in throttling, purchase expiry) are tested with a manual clock.
public protocol EpochClock: Sendable {
    func now() -> Int64
    /// Lets `milliseconds` pass (a test's manual clock lets other threads run without moving).
    func pause(milliseconds: Int)
}

/// The system's wall clock.
public struct SystemClock: EpochClock {
    public init() {}
    public func now() -> Int64 { WallClock.secondsSinceEpoch() }
    public func pause(milliseconds: Int) { WallClock.sleep(milliseconds: milliseconds) }
}
