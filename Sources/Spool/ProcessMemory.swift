import CSystem
#if canImport(Glibc)
import Glibc
#endif

/// How this process's C heap (glibc malloc) is laid out.
public enum ProcessMemory {
    /// Caps glibc malloc's arenas at `count`, unless the environment already sets
    /// `MALLOC_ARENA_MAX` (the operator's choice wins). glibc gives a thread that finds the arenas
    /// busy an arena of its own, up to 8 per core, and an arena keeps the pages its peak needed:
    /// a worker's 8 request threads and its delivery thread each held 1.3-2.5 MiB of their own
    /// in `scripts/bench soak-memory`. Call it first thing, before any thread starts.
    /// False when glibc refused it.
    @discardableResult
    public static func limitArenas(_ count: Int32) -> Bool {
        if getenv("MALLOC_ARENA_MAX") != nil { return true }
        return intake_limit_malloc_arenas(count) == 1
    }
}
