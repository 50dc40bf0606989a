import Web
#if canImport(Glibc)
import Glibc
#endif

/// `GET /_debug/sleep?ms=N`: answers after N milliseconds (at most 60 000).
/// Mounted only with `INTAKE_DEBUG_ROUTES=1`, for the integration tests (draining and reloads).
enum DebugSleep {
    static func handle(_ context: RequestContext) throws -> Response {
        let request = context.request
        guard let text = try request.query()["ms"], let ms = Int(text), (0...60_000).contains(ms) else {
            throw HTTPError.badRequest("ms must be a whole number from 0 to 60000")
        }
        usleep(UInt32(ms) * 1000)
        return .json(["slept_ms": .int(Int64(ms))])
    }
}
