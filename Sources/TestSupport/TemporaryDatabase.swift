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

/// The one way a test gets a database: a fresh one, opened (and, with `migrator`, migrated) for
/// `body`, and removed afterwards. Another connection to it, as a second thread or process
/// would hold, is `db.location.open()`.
///
/// SQLite by default: a file in a folder of its own. With `INTAKE_TEST_DATABASE_URL` set (a
/// PostgreSQL server where the user may create databases; `scripts/test` starts one), a new
/// PostgreSQL database per test, copied from a template migrated once per migrator.
///
/// `Database` knows nothing of Intake's schema, so a test target that wants it passes it in:
/// `withTemporaryDatabase(migratedBy: Schema.migrator) { db in … }`.
public func withTemporaryDatabase<T>(migratedBy migrator: Migrator? = nil, _ body: (any Database) throws -> T) throws -> T {
    if let server = TestDatabases.postgresqlServer {
        let location = try TestDatabases.create(on: server, migratedBy: migrator)
        defer { TestDatabases.drop(location) }
        return try body(try location.open())
    }
    return try withTemporaryDirectory("intake-db") { dir in
        let db = try SQLiteDatabase(path: dir + "/test.db")
        try migrator?.migrate(db, now: "test")
        return try body(db)
    }
}

/// Fresh PostgreSQL databases for tests (and for the servers the end-to-end tests start).
public enum TestDatabases {
    /// `INTAKE_TEST_DATABASE_URL`: the server tests run against instead of SQLite files.
    public static let postgresqlServer: String? = {
        guard let url = ProcessInfo.processInfo.environment["INTAKE_TEST_DATABASE_URL"], !url.isEmpty else { return nil }
        return url
    }()

    /// Whether the tests run on PostgreSQL.
    public static var onPostgreSQL: Bool { postgresqlServer != nil }

    private static let lock = NSLock()
    nonisolated(unsafe) private static var templates: [String: String] = [:]

    /// A new database on `server`, a copy of one migrated by `migrator` (made once per process).
    public static func create(on server: String, migratedBy migrator: Migrator?) throws -> DatabaseLocation {
        let admin = try PostgresDatabase(url: server)
        let name = "intake_t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        if let migrator {
            let template = try self.template(for: migrator, on: server, admin: admin)
            try admin.execute("CREATE DATABASE \(name) TEMPLATE \(template)")
        } else {
            try admin.execute("CREATE DATABASE \(name)")
        }
        return .postgresql(url: url(server, database: name))
    }

    /// Drops a database `create` made, ending any connection still open to it.
    public static func drop(_ location: DatabaseLocation) {
        guard case .postgresql(let url) = location, let server = postgresqlServer,
              let name = url.split(separator: "/").last?.split(separator: "?").first,
              let admin = try? PostgresDatabase(url: server) else { return }
        _ = try? admin.execute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
    }

    private static func template(for migrator: Migrator, on server: String, admin: PostgresDatabase) throws -> String {
        let key = migrator.postgresqlMigrations.map { "\($0.version) \($0.name) \($0.sql.hashValue)" }.joined(separator: ";")
        lock.lock()
        defer { lock.unlock() }
        if let name = templates[key] { return name }
        let name = "intake_tpl_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        try admin.execute("CREATE DATABASE \(name)")
        do {
            let db = try PostgresDatabase(url: url(server, database: name))
            try migrator.migrate(db, now: "test")
        }
        templates[key] = name
        return name
    }

    /// `server`'s URL naming `database` instead.
    static func url(_ server: String, database: String) -> String {
        var base = server
        var query = ""
        if let q = base.firstIndex(of: "?") {
            query = String(base[q...])
            base = String(base[..<q])
        }
        if let scheme = base.range(of: "://"), let slash = base[scheme.upperBound...].firstIndex(of: "/") {
            base = String(base[..<slash])
        }
        return base + "/" + database + query
    }
}

extension Database {
    /// The names of the schema's own tables (SQLite's internal ones included there), for tests
    /// that compare every row before and after.
    public func tableNames() throws -> [String] {
        let sql = dialect == .sqlite
            ? "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
            : "SELECT table_name::text AS name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY name"
        return try query(sql).map { try $0.get("name", as: String.self) }
    }
}
