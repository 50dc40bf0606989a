import Database
import Foundation
import Intake
import Synchronization

/// A clock the test moves by hand.
final class ManualClock: Clock {
    private let time: Mutex<Int64>
    init(_ start: Int64 = 1_800_000_000) { time = Mutex(start) }
    func now() -> Int64 { time.withLock { $0 } }
    func advance(_ seconds: Int64) { time.withLock { $0 += seconds } }
}

/// A fresh, migrated database file for one test, removed afterwards.
func withDatabase<T>(_ body: (Database) throws -> T) throws -> T {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("intake-test-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let db = try SQLiteDatabase(path: dir.appendingPathComponent("intake.db").path)
    try Schema.migrator.migrate(db, now: "test")
    return try body(db)
}

/// The repository's templates folder.
let templatesDirectory: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.appendingPathComponent("templates").path
}()
