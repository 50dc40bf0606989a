import Foundation

/// Runs `body(i)` for i in 0..<count, each on a thread of its own, all released at once, and
/// waits for every one: real concurrency for race tests (`DispatchQueue.concurrentPerform` runs
/// only as many at a time as there are cores).
public func onThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
    let start = DispatchSemaphore(value: 0)
    let done = DispatchGroup()
    for i in 0..<count {
        done.enter()
        Thread.detachNewThread {
            defer { done.leave() }
            start.wait()
            body(i)
        }
    }
    for _ in 0..<count { start.signal() }
    done.wait()
}
