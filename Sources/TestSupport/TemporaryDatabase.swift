import Database
import Foundation

/// Runs `body` with a folder of its own under the system's temporary directory, and removes the
/// folder and everything in it afterwards, whether `body` returns or throws.
public func withTemporaryDirectory<T>(_ prefix: String = "intake-test", _ body: (String) throws -> T) throws -> T {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try body(path)
}

/// The one way a test gets a database: a fresh SQLite file in a folder of its own, opened (and,
/// with `migrator`, migrated) for `body`, and removed with its folder afterwards (the WAL and
/// shared-memory files with it). Another connection to the same file, as a second thread or
/// process would hold, is `SQLiteDatabase(path: db.path)`.
///
/// `Database` knows nothing of Intake's schema, so a test target that wants it passes it in:
/// `withTemporaryDatabase(migratedBy: Schema.migrator) { db in … }`.
public func withTemporaryDatabase<T>(migratedBy migrator: Migrator? = nil, _ body: (SQLiteDatabase) throws -> T) throws -> T {
    try withTemporaryDirectory("intake-db") { dir in
        let db = try SQLiteDatabase(path: dir + "/test.db")
        try migrator?.migrate(db, now: "test")
        return try body(db)
    }
}
