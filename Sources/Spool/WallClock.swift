#if canImport(Glibc)
import Glibc
#endif

/// This host's wall clock, for the domain's `SystemClock`: the one place real time is read.
public enum WallClock {
    /// Whole seconds since the Unix epoch, UTC (`clock_gettime(CLOCK_REALTIME)`).
    public static func secondsSinceEpoch() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec)
    }
}
