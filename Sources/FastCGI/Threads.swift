#if canImport(Glibc)
import Glibc
#endif

/// Starts a joinable POSIX thread running `body`. The closure travels into C through an
/// `Unmanaged` box that the new thread releases, so it is retained exactly as long as needed.
func startThread(_ body: @escaping @Sendable () -> Void) throws -> pthread_t {
    final class Box: @unchecked Sendable {  // immutable after init; handed over to one thread
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }
    let box = Unmanaged.passRetained(Box(body)).toOpaque()
    var thread = pthread_t()
    let rc = pthread_create(&thread, nil, { raw in
        let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
        box.body()
        return nil
    }, box)
    guard rc == 0 else {
        Unmanaged<Box>.fromOpaque(box).release()
        throw FastCGIError.system("pthread_create", errno: rc)
    }
    return thread
}

/// A signal set built from a list, for pthread_sigmask and sigtimedwait.
func signalSet(_ signals: [Int32]) -> sigset_t {
    var set = sigset_t()
    sigemptyset(&set)
    for s in signals { sigaddset(&set, s) }
    return set
}

/// Waits up to `timeout` seconds for one of the blocked `signals`; returns it, or nil on timeout.
func waitForSignal(_ signals: [Int32], timeout: Double) -> Int32? {
    var set = signalSet(signals)
    var ts = timespec(tv_sec: Int(timeout), tv_nsec: Int((timeout - Double(Int(timeout))) * 1e9))
    let s = sigtimedwait(&set, nil, &ts)
    return s > 0 ? s : nil
}

/// Seconds on the monotonic clock, for durations.
func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}
