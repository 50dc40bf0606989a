import CSQLite
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Checkpoints of a SQLite database's write-ahead log made by a thread of their own, instead of
/// by the commit that crossed SQLite's threshold.
///
/// SQLite's automatic checkpoint runs inside the commit that brings the WAL past 1,000 pages,
/// while that writer still holds the writers' queue: it syncs the WAL, copies the pages into the
/// database file and syncs that, and every other writer waits meanwhile. An upload writes about
/// forty pages, so under a stream of small uploads one in twenty-five stalled every writer of the
/// host for the length of two `fsync`s. A passive checkpoint takes no write lock (SQLite runs it beside
/// readers and writers), so here the committing connection's WAL hook only wakes this thread,
/// which checkpoints on its own connection while the writers go on.
///
/// A passive checkpoint copies the pages the WAL held when it began. Writers that commit while it
/// syncs add more, and SQLite starts the WAL over only once every page in it has been copied, so
/// under a steady stream of writes the WAL would grow for as long as the stream lasts. When it
/// has grown past `limitPages`, the thread checkpoints once more inside the writers' queue,
/// where nobody can add pages: only what came since the last pass is left to copy, and the next
/// writer starts the WAL over (unless a reader still reads an older snapshot; then the next
/// catch-up waits until the WAL has grown by another `limitPages`).
///
/// Connections opened on `path` (the same string: the registry does not resolve links) in this
/// process after `start(path:)` hand their checkpoints to it; other processes (the command line
/// tools) keep SQLite's own. Two workers each run one; SQLite lets one checkpoint run at a time.
public final class SQLiteCheckpointer: @unchecked Sendable {
    /// The WAL size, in pages, past which a commit asks for a checkpoint (SQLite's default is
    /// 1,000 pages).
    public let thresholdPages: Int32
    /// The WAL size past which a checkpoint that could not copy everything is finished inside
    /// the writers' queue.
    public let limitPages: Int32
    public let path: String
    private let connection: SQLiteDatabase
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    // Guarded by `mutex`.
    private var requested = false
    private var running = true
    private var stopped = false
    private var passes = 0
    private var queuedPasses = 0
    /// The WAL's size after the latest commit of a hooked connection.
    private var latestWALPages: Int32 = 0
    /// How far into the WAL the last pass copied: the next is asked for `thresholdPages` later.
    private var copiedTo: Int32 = 0
    /// Runs on the thread between a passive pass and the choice of a catch-up (a test writes there,
    /// as the writers of a busy host do while a pass syncs).
    private let afterPassivePass: (() -> Void)?

    private init(path: String, thresholdPages: Int32, limitPages: Int32, afterPassivePass: (() -> Void)?) throws {
        self.path = path
        self.thresholdPages = thresholdPages
        self.limitPages = limitPages
        self.afterPassivePass = afterPassivePass
        connection = try SQLiteDatabase(path: path)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    /// Starts the checkpoint thread for `path` (once per process and file; a second call returns
    /// the first one's).
    @discardableResult
    public static func start(path: String, thresholdPages: Int32 = 1000, limitPages: Int32 = 8000) throws -> SQLiteCheckpointer {
        try start(path: path, thresholdPages: thresholdPages, limitPages: limitPages, afterPassivePass: nil)
    }

    static func start(path: String, thresholdPages: Int32, limitPages: Int32, afterPassivePass: (() -> Void)?) throws -> SQLiteCheckpointer {
        try starting.withLock { _ in
            if let existing = registry.withLock({ $0.running[path] }) { return existing }
            // Its own connection only checkpoints, so it needs no hook: it opens before the entry.
            let checkpointer = try SQLiteCheckpointer(path: path, thresholdPages: thresholdPages, limitPages: limitPages,
                                                     afterPassivePass: afterPassivePass)
            // The thread takes no signals: the worker's main thread waits for its stop signals
            // with them blocked, and a thread that left them open would die of them instead.
            var all = sigset_t(), previous = sigset_t()
            sigfillset(&all)
            pthread_sigmask(SIG_SETMASK, &all, &previous)
            defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
            var thread = pthread_t()
            let rc = pthread_create(&thread, nil, { argument in
                Unmanaged<SQLiteCheckpointer>.fromOpaque(argument!).takeRetainedValue().run()
                return nil
            }, Unmanaged.passRetained(checkpointer).toOpaque())
            guard rc == 0 else {
                Unmanaged.passUnretained(checkpointer).release()
                throw DatabaseError(.other, "cannot start the checkpoint thread for \(path) (error \(rc))")
            }
            pthread_detach(thread)
            registry.withLock { $0.running[path] = checkpointer }
            return checkpointer
        }
    }

    /// Ends the thread after a last checkpoint. Connections opened later checkpoint for themselves
    /// again, and so do those still open: their hook finds the thread gone. The object stays
    /// (their hooks point at it) until the process ends.
    public func stop() {
        Self.registry.withLock { registry in
            if registry.running[path] === self {
                registry.running[path] = nil
                registry.retired.append(self)
            }
        }
        pthread_mutex_lock(mutex)
        running = false
        pthread_cond_signal(condition)
        while !stopped { pthread_cond_wait(condition, mutex) }
        pthread_mutex_unlock(mutex)
    }

    /// How many checkpoints the thread has made (not counting those that found another one
    /// running), and how many of them caught up inside the writers' queue.
    public var checkpoints: (all: Int, queued: Int) {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return (passes, queuedPasses)
    }

    /// Called by `SQLiteDatabase` as it opens `handle` on `path`: when a checkpointer runs for the
    /// file, the connection's WAL hook (which replaces SQLite's automatic checkpoint) wakes it.
    static func attach(_ handle: OpaquePointer, path: String) {
        guard let checkpointer = registry.withLock({ $0.running[path] }) else { return }
        sqlite3_wal_hook(handle, { context, db, name, pages in
            let checkpointer = Unmanaged<SQLiteCheckpointer>.fromOpaque(context!).takeUnretainedValue()
            if !checkpointer.committed(walPages: pages) {
                // What SQLite's own hook does: a passive checkpoint by the committing connection.
                _ = sqlite3_wal_checkpoint(db, name)
            }
            return SQLITE_OK
        }, Unmanaged.passUnretained(checkpointer).toOpaque())
    }

    /// Notes the WAL's size after a commit, and past the threshold wakes the thread; false when
    /// that commit should checkpoint for itself (past the threshold, the thread stopped).
    private func committed(walPages: Int32) -> Bool {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        latestWALPages = walPages
        if walPages < copiedTo { copiedTo = 0 }  // the WAL started over
        // Past the threshold, and by as much again since the last pass (one that could not copy
        // what came in meanwhile leaves the WAL above the threshold, and passes back to back
        // would each sync the log and the database for a few pages).
        guard walPages >= thresholdPages, walPages - copiedTo >= thresholdPages else { return true }
        guard running else { return false }
        if !requested {
            requested = true
            pthread_cond_signal(condition)
        }
        return true
    }

    private func run() {
        // The WAL size from which a catch-up in the writers' queue is next made.
        var catchUpAt = limitPages
        pthread_mutex_lock(mutex)
        while running {
            while !requested && running { pthread_cond_wait(condition, mutex) }
            requested = false
            let last = !running
            pthread_mutex_unlock(mutex)
            // A busy answer (another process's checkpoint is running) is no failure: the next
            // commit past the threshold asks again.
            let pass = checkpoint()
            afterPassivePass?()
            var caughtUp = false
            var queuedCopied: Int32?
            // The pass reports the WAL as it began; the writers' commits since tell its size now.
            if case let (_, copied)? = pass {
                pthread_mutex_lock(mutex)
                let walPages = latestWALPages
                pthread_mutex_unlock(mutex)
                if walPages < catchUpAt - limitPages { catchUpAt = limitPages }  // it started over
                if walPages > copied, walPages >= catchUpAt, !last {
                    _ = connection.inWriterQueue {
                        // Writers wait meanwhile, so another process's pass is waited out (briefly).
                        for _ in 0..<20 {
                            guard case let (walPages, copied)? = checkpoint() else { usleep(1_000); continue }
                            caughtUp = walPages == copied
                            queuedCopied = copied
                            // The next catch-up comes a limit further on: the WAL starts over at the
                            // next write unless a reader still reads an older snapshot (or pages
                            // were held back for one), and catching up again at once would stall
                            // the writers for nothing. Once it has started over, both reset.
                            catchUpAt = walPages + limitPages
                            return
                        }
                    }
                }
            }
            pthread_mutex_lock(mutex)
            if let copied = queuedCopied ?? pass?.copied, copied > 0 { copiedTo = copied }
            if pass != nil { passes += 1 }
            if caughtUp { queuedPasses += 1 }
        }
        stopped = true
        pthread_cond_broadcast(condition)
        pthread_mutex_unlock(mutex)
    }

    /// A passive checkpoint: the WAL's size in pages and how many of them are now in the database
    /// file; nil when another checkpoint was running.
    private func checkpoint() -> (walPages: Int32, copied: Int32)? {
        var walPages: Int32 = 0, copied: Int32 = 0
        guard sqlite3_wal_checkpoint_v2(connection.handle, nil, SQLITE_CHECKPOINT_PASSIVE, &walPages, &copied) == SQLITE_OK else { return nil }
        return (walPages, copied)
    }

    /// The checkpointers running in this process, by file, and those stopped, kept for the hooks
    /// that still point at them. `starting` makes two starts for one file start one thread (a new
    /// checkpointer's own connection consults the registry as it opens, so the registry cannot
    /// be held meanwhile).
    private static let registry = Mutex<(running: [String: SQLiteCheckpointer], retired: [SQLiteCheckpointer])>(([:], []))
    private static let starting = Mutex<Void>(())
}
