import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Counters that the processes of one `intake serve` add to and any of them reads: a file mapped
/// shared (`MAP_SHARED`) into each, made by the supervisor before it starts a worker.
///
/// The file, in this machine's byte order (every reader is the same binary on the same host):
///
///     page 0    magic "INTAKEMC", layout fingerprint, slot count, counters per slot,
///               then one pid per slot (the process that last took the slot)
///     page 1…   slot 0: `countersPerSlot` UInt64 counters; then slot 1, … each on pages of its own
///
/// Each process adds only to its own slot — a worker to the one the supervisor gave it, the
/// supervisor's jobs to the last — and a reader sums a counter over every slot. An add is a
/// relaxed atomic read-modify-write (`lock xadd` on x86-64): no lock, no request thread waits for
/// another, and nothing is lost when two processes share a slot (the old and the new worker of a
/// slot during a SIGHUP roll). A worker killed half way leaves every counter whole (an add is
/// done or not), and its replacement takes the same slot and goes on adding to its totals, so a
/// restart neither loses nor repeats a count. Slots start on pages of their own so that two
/// processes never write one cache line.
public final class SharedCounters: @unchecked Sendable {
    // @unchecked: the fields never change after init; the memory they point to is only read and
    // written through `Atomic`, and stays mapped until deinit, which only runs when no slot
    // (each holds a reference) is left.
    private let base: UnsafeMutableRawPointer
    private let length: Int
    /// The header's pid words, one per slot.
    private let pids: UnsafeMutablePointer<Atomic<UInt64>>
    private let counters: UnsafeMutablePointer<Atomic<UInt64>>
    /// How many processes' slots the region holds.
    public let slotCount: Int
    /// Counters in each slot.
    public let countersPerSlot: Int
    /// Counters from one slot's start to the next's (a whole number of pages).
    private let stride: Int

    private static let magic: UInt64 = 0x434D_454B_4154_4E49  // "INTAKEMC", little-endian
    private static let headerWords = 4
    private static let pageSize = max(Int(sysconf(Int32(_SC_PAGESIZE))), 4096)
    /// The most slots the header page has room for.
    public static var maximumSlots: Int { pageSize / 8 - headerWords }

    private init(base: UnsafeMutableRawPointer, length: Int, slots: Int, countersPerSlot: Int) {
        self.base = base
        self.length = length
        self.slotCount = slots
        self.countersPerSlot = countersPerSlot
        stride = Self.slotBytes(countersPerSlot) / 8
        pids = (base + Self.headerWords * 8).bindMemory(to: Atomic<UInt64>.self, capacity: slots)
        counters = (base + Self.pageSize).bindMemory(to: Atomic<UInt64>.self, capacity: slots * stride)
    }

    deinit { munmap(base, length) }

    private static func slotBytes(_ counters: Int) -> Int { (counters * 8 + pageSize - 1) / pageSize * pageSize }

    private static func fileLength(slots: Int, countersPerSlot: Int) -> Int { pageSize + slots * slotBytes(countersPerSlot) }

    /// Makes the file at `path` with every counter at zero and maps it. It is made under another
    /// name and renamed into place, so a file still mapped by processes of an earlier supervisor
    /// is replaced, never truncated under them (a mapped page past a file's end is SIGBUS).
    public static func create(path: String, slots: Int, countersPerSlot: Int, fingerprint: UInt64) throws -> SharedCounters {
        precondition(slots > 0 && slots <= maximumSlots && countersPerSlot > 0)
        let temporary = path + ".\(getpid()).new"
        let fd = open(temporary, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw SharedCountersError.system("open", errno, temporary) }
        defer { close(fd) }  // the mapping outlives the descriptor
        let length = fileLength(slots: slots, countersPerSlot: countersPerSlot)
        guard ftruncate(fd, off_t(length)) == 0 else {
            let code = errno
            unlink(temporary)
            throw SharedCountersError.system("ftruncate", code, temporary)
        }
        let counters = try map(fd, length: length, path: temporary, slots: slots, countersPerSlot: countersPerSlot)
        counters.writeHeader(fingerprint: fingerprint)
        guard rename(temporary, path) == 0 else {
            let code = errno
            unlink(temporary)
            throw SharedCountersError.system("rename", code, path)
        }
        return counters
    }

    /// Maps the file a supervisor made, after checking that it was made for this layout: the same
    /// counters per slot and the same fingerprint (a hash of every counter's name).
    public static func attach(path: String, countersPerSlot: Int, fingerprint: UInt64) throws -> SharedCounters {
        let fd = open(path, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { throw SharedCountersError.system("open", errno, path) }
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0 else { throw SharedCountersError.system("fstat", errno, path) }
        var header = [UInt64](repeating: 0, count: headerWords)
        let wanted = headerWords * 8
        guard header.withUnsafeMutableBytes({ pread(fd, $0.baseAddress, wanted, 0) }) == wanted else {
            throw SharedCountersError.layout(path, "too short for a header")
        }
        guard header[0] == magic else { throw SharedCountersError.layout(path, "not a counters file") }
        guard header[1] == fingerprint, header[3] == UInt64(countersPerSlot) else {
            throw SharedCountersError.layout(path, "made for other counters (another version of Intake, or other routes)")
        }
        let slots = Int(header[2])
        let length = fileLength(slots: slots, countersPerSlot: countersPerSlot)
        guard slots > 0, slots <= maximumSlots, Int(status.st_size) == length else {
            throw SharedCountersError.layout(path, "its length does not match its header")
        }
        return try map(fd, length: length, path: path, slots: slots, countersPerSlot: countersPerSlot)
    }

    /// Counters in this process's memory alone (`MAP_SHARED | MAP_ANONYMOUS`): for a worker that
    /// no supervisor started, and for tests.
    public static func inMemory(slots: Int, countersPerSlot: Int) -> SharedCounters {
        precondition(slots > 0 && slots <= maximumSlots && countersPerSlot > 0)
        let length = fileLength(slots: slots, countersPerSlot: countersPerSlot)
        let base = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0)
        guard let base, base != MAP_FAILED else { fatalError("cannot map \(length) bytes for counters: errno \(errno)") }
        let counters = SharedCounters(base: base, length: length, slots: slots, countersPerSlot: countersPerSlot)
        counters.writeHeader(fingerprint: 0)
        return counters
    }

    private static func map(_ fd: Int32, length: Int, path: String, slots: Int, countersPerSlot: Int) throws -> SharedCounters {
        let base = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
        guard let base, base != MAP_FAILED else { throw SharedCountersError.system("mmap", errno, path) }
        return SharedCounters(base: base, length: length, slots: slots, countersPerSlot: countersPerSlot)
    }

    private func writeHeader(fingerprint: UInt64) {
        let header = base.bindMemory(to: Atomic<UInt64>.self, capacity: Self.headerWords)
        header[1].store(fingerprint, ordering: .relaxed)
        header[2].store(UInt64(slotCount), ordering: .relaxed)
        header[3].store(UInt64(countersPerSlot), ordering: .relaxed)
        // The magic last: a reader that sees it sees the rest.
        header[0].store(Self.magic, ordering: .releasing)
    }

    /// Slot `index`, for this process to add to; records this process as the slot's.
    public func slot(_ index: Int) -> CounterSlot {
        precondition(index >= 0 && index < slotCount, "slot \(index) of \(slotCount)")
        pids[index].store(UInt64(getpid()), ordering: .relaxed)
        return CounterSlot(owner: self, counters: counters + index * stride, count: countersPerSlot)
    }

    /// Every counter summed over the slots.
    public func totals() -> [UInt64] {
        var sums = [UInt64](repeating: 0, count: countersPerSlot)
        for slot in 0..<slotCount {
            let start = counters + slot * stride
            for i in 0..<countersPerSlot { sums[i] &+= start[i].load(ordering: .relaxed) }
        }
        return sums
    }

    /// The process that last took each slot (0: none yet), by slot.
    public func slotProcesses() -> [Int32] {
        (0..<slotCount).map { Int32(truncatingIfNeeded: pids[$0].load(ordering: .relaxed)) }
    }
}

/// One process's slot of the shared counters: where it adds.
public struct CounterSlot: @unchecked Sendable {
    // @unchecked: `counters` points into the mapping `owner` keeps alive, and is only reached
    // through `Atomic`.
    private let owner: SharedCounters
    private let counters: UnsafeMutablePointer<Atomic<UInt64>>
    private let count: Int

    fileprivate init(owner: SharedCounters, counters: UnsafeMutablePointer<Atomic<UInt64>>, count: Int) {
        self.owner = owner
        self.counters = counters
        self.count = count
    }

    /// Adds `amount` to counter `index` (relaxed: a count needs no order with other memory).
    @inline(__always)
    public func add(_ amount: UInt64, to index: Int) {
        precondition(index >= 0 && index < count, "counter \(index) of \(count)")
        counters[index].wrappingAdd(amount, ordering: .relaxed)
    }
}

/// Why the shared counters could not be made or mapped.
public enum SharedCountersError: Error, CustomStringConvertible {
    /// A system call failed.
    case system(String, Int32, String)
    /// The file is not one this binary can use.
    case layout(String, String)

    public var description: String {
        switch self {
        case .system(let call, let code, let path): return "\(call) \(path): \(String(cString: strerror(code)))"
        case .layout(let path, let why): return "\(path): \(why)"
        }
    }
}
