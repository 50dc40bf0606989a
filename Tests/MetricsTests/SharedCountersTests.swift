import Foundation
import Testing
import TestSupport
@testable import Metrics

@Suite("Counters shared through a mapped file")
struct SharedCountersTests {
    /// A counters file made in a temporary folder and mapped twice, as the supervisor and a
    /// worker map it.
    func withTwoMappings(slots: Int, counters: Int, _ body: (SharedCounters, SharedCounters) throws -> Void) throws {
        try withTemporaryDirectory { dir in
            let made = try SharedCounters.create(path: dir + "/metrics.counters", slots: slots, countersPerSlot: counters, fingerprint: 42)
            try body(made, try SharedCounters.attach(path: dir + "/metrics.counters", countersPerSlot: counters, fingerprint: 42))
        }
    }

    @Test("a file made by one mapping is seen by another: adds to different slots are summed, and each slot names its process")
    func twoMappings() throws {
        try withTwoMappings(slots: 3, counters: 700) { made, attached in
            #expect(attached.slotCount == 3)
            let a = made.slot(0), b = attached.slot(2)
            a.add(5, to: 0)
            b.add(7, to: 0)
            b.add(1, to: 699)
            #expect(made.totals()[0] == 12 && attached.totals()[0] == 12 && attached.totals()[699] == 1)
            #expect(attached.totals().reduce(0, +) == 13)
            #expect(made.slotProcesses() == [getpid(), 0, getpid()])
        }
    }

    @Test("a file made for other counters is refused, naming why; a missing file names the call")
    func refusals() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/metrics.counters"
            _ = try SharedCounters.create(path: path, slots: 2, countersPerSlot: 10, fingerprint: 1)
            #expect(throws: SharedCountersError.self) { try SharedCounters.attach(path: path, countersPerSlot: 10, fingerprint: 2) }
            #expect(throws: SharedCountersError.self) { try SharedCounters.attach(path: path, countersPerSlot: 11, fingerprint: 1) }
            FileManager.default.createFile(atPath: dir + "/junk", contents: Data(repeating: 7, count: 64))
            #expect(throws: SharedCountersError.self) { try SharedCounters.attach(path: dir + "/junk", countersPerSlot: 10, fingerprint: 1) }
            let missing = #expect(throws: SharedCountersError.self) { try SharedCounters.attach(path: dir + "/none", countersPerSlot: 10, fingerprint: 1) }
            #expect(missing?.description.hasPrefix("open \(dir)/none:") == true)
        }
    }

    @Test("made again, the file starts from zero, and a mapping of the old one keeps working (it is replaced, never truncated)")
    func remade() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/metrics.counters"
            let old = try SharedCounters.create(path: path, slots: 2, countersPerSlot: 4, fingerprint: 9)
            old.slot(0).add(3, to: 1)
            let new = try SharedCounters.create(path: path, slots: 2, countersPerSlot: 4, fingerprint: 9)
            old.slot(1).add(1, to: 1)  // no SIGBUS: the old file is still whole
            #expect(old.totals()[1] == 4 && new.totals()[1] == 0)
            #expect(try SharedCounters.attach(path: path, countersPerSlot: 4, fingerprint: 9).totals() == [0, 0, 0, 0])
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["metrics.counters"])
        }
    }

    @Test("16 threads adding through two mappings of one slot and another slot lose nothing")
    func concurrentAdds() throws {
        try withTwoMappings(slots: 2, counters: 3) { first, second in
            // Two processes on one slot (a SIGHUP roll) are two mappings of it.
            let slots = [first.slot(0), second.slot(0), second.slot(1)]
            onThreads(16) { i in
                let slot = slots[i % slots.count]
                for _ in 0..<20_000 { slot.add(1, to: 1) }
                slot.add(UInt64(i), to: 2)
            }
            #expect(first.totals() == [0, 16 * 20_000, (0..<16).reduce(0, +)])
        }
    }

    @Test("the resident memory of this process is read from /proc; a process that is not there has none")
    func residentMemory() {
        let mine = ProcessFigures.residentBytes(of: getpid())
        #expect(mine != nil && mine! > 1024 * 1024)
        #expect(ProcessFigures.residentBytes(of: 0) == nil && ProcessFigures.residentBytes(of: Int32.max) == nil)
    }
}
