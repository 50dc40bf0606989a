import Dispatch
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Writes a large spool file's bytes on a queue of their own, so that the request's thread reads,
/// parses and hashes the next piece of the body while the last one is copied into the page cache.
/// A 1 GiB upload spends about as long in `write(2)` as in everything else its thread does
/// (`scripts/bench upload`), so the two overlap on the host's cores instead of taking turns.
///
/// Bytes are gathered into pieces of `pieceBytes` (a megabyte: ext4 does the same bookkeeping
/// for each `write(2)` whatever its size, and a body arrives 8 to 64 KiB at a time), copies, as
/// the caller's buffer is reused for the next read. At most `limitBytes` of them wait in the queue,
/// with the piece being gathered beside them (5 MiB in all): the request's thread waits for room,
/// so memory stays flat and a slow disk slows the upload down, as a direct write would. Writes
/// happen in order on a serial queue (libdispatch's threads take no signals). A write that fails
/// is reported by the next `enqueue` or by `drain`, and nothing after it is written.
final class WriteBehind: @unchecked Sendable {
    private let file: SpoolFile
    private let queue = DispatchQueue(label: "intake.spool.write-behind")
    private let room: DispatchSemaphore
    private let pieceBytes: Int
    /// The first failure, and whether to stop writing (a failure, or the spool abandoned).
    private let state = Mutex<(failure: (any Error)?, stopped: Bool)>((nil, false))
    /// What is written and where write-back has been started up to (the queue's alone).
    private var writeBack: WriteBackSchedule

    /// `writeBack`: the schedule of the bytes written to `file` before this took over.
    init(file: SpoolFile, writeBack: WriteBackSchedule, limitBytes: Int = 4 << 20, pieceBytes: Int = 1 << 20) {
        self.file = file
        self.writeBack = writeBack
        self.pieceBytes = pieceBytes
        room = DispatchSemaphore(value: max(1, limitBytes / pieceBytes))
    }

    /// What has come since the last piece went to the queue.
    private var pending: [UInt8] = []

    /// Adds a copy of `bytes` to the current piece; a full piece goes to the queue, waiting while
    /// the queue is full. Throws the failure of an earlier write.
    func enqueue(_ bytes: UnsafeRawBufferPointer) throws {
        if let failure = state.withLock({ $0.failure }) { throw failure }
        var start = 0
        while start < bytes.count {
            if pending.capacity < pieceBytes { pending.reserveCapacity(pieceBytes) }
            let end = min(bytes.count, start + pieceBytes - pending.count)
            pending.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[start..<end]))
            start = end
            if pending.count == pieceBytes { submit() }
        }
    }

    private func submit() {
        guard !pending.isEmpty else { return }
        let piece = pending
        pending = []
        room.wait()
        queue.async { [self] in
            defer { room.signal() }
            guard !state.withLock({ $0.stopped }) else { return }
            do {
                try piece.withUnsafeBytes { try file.write($0) }
                _ = writeBack.wrote(piece.count, to: file)
            } catch {
                state.withLock { $0 = (error, true) }
            }
        }
    }

    /// Writes what is left and waits until every queued piece is written; throws the first failure.
    func drain() throws {
        submit()
        queue.sync {}
        if let failure = state.withLock({ $0.failure }) { throw failure }
    }

    /// Drops what is still queued and waits for the write in progress, if any: the file can then
    /// be closed and removed.
    func cancel() {
        // Writing after this is an error, as it would be on the closed descriptor.
        state.withLock { $0 = ($0.failure ?? SpoolError(code: EBADF, function: "write", path: file.path), true) }
        queue.sync {}
    }
}
