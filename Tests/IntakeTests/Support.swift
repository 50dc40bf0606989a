import Database
import Foundation
import Intake
import Integrations
import Synchronization
import TestSupport

/// A clock the test moves by hand.
final class ManualClock: EpochClock {
    private let time: Mutex<Int64>
    init(_ start: Int64 = 1_800_000_000) { time = Mutex(start) }
    func now() -> Int64 { time.withLock { $0 } }
    func advance(_ seconds: Int64) { time.withLock { $0 += seconds } }
    /// Waiting lets other threads run for real (a concurrent refresh must get to finish) but moves
    /// this clock only as the test says.
    func pause(milliseconds: Int) { Thread.sleep(forTimeInterval: Double(milliseconds) / 1000) }
}

/// A fresh database with Intake's schema for one test, removed afterwards: TestSupport's
/// `withTemporaryDatabase` with the migrations of `Schema`. `db.location.open()` opens more connections.
func withDatabase<T>(_ body: (any Database) throws -> T) throws -> T {
    try withTemporaryDatabase(migratedBy: Schema.migrator, body)
}

/// The repository's templates folder.
let templatesDirectory: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.appendingPathComponent("templates").path
}()

/// Counts what the domain reports, for the tests of what it reports.
final class RecordingCounters: OperationCounters {
    let events = Mutex<[String]>([])
    func fileAccepted(_ transfer: UploadTransfer, bytes: Int64) { events.withLock { $0.append("file \(transfer.rawValue) \(bytes)") } }
    func tokenRefreshed(_ provider: OAuthProvider.Kind, _ result: TokenRefreshResult) { events.withLock { $0.append("refresh \(provider.rawValue) \(result.rawValue)") } }
    func jobRan(_ job: String, failed: Bool) { events.withLock { $0.append("job \(job) \(failed ? "error" : "ok")") } }
    var all: [String] { events.withLock { $0 } }
}
