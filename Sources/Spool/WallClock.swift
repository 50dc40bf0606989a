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

    /// Sleeps this thread for `milliseconds` (`nanosleep`, resumed after a signal).
    public static func sleep(milliseconds: Int) {
        var request = timespec(tv_sec: milliseconds / 1000, tv_nsec: (milliseconds % 1000) * 1_000_000)
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
    }
}
