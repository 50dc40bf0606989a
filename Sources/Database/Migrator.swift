/// One numbered schema change. Versions only grow; a released migration is never edited.
public struct Migration: Sendable {
    /// The version number, unique and increasing.
    public let version: Int
    /// A short name for logs and the migrations table.
    public let name: String
    /// The statements, written in portable SQL where possible.
    public let sql: String

    public init(_ version: Int, _ name: String, _ sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
    }
}

/// Applies migrations in order, each in its own write transaction together with its row in
/// `schema_migrations`, so a failed migration leaves no trace and two processes migrating at
/// once apply each version exactly once.
public struct Migrator: Sendable {
    public let migrations: [Migration]

    /// A migrator over `migrations`; versions must be unique and ascending.
    public init(_ migrations: [Migration]) {
        precondition(zip(migrations, migrations.dropFirst()).allSatisfy { $0.version < $1.version },
                     "migration versions must be unique and ascending")
        self.migrations = migrations
    }

    /// The versions already applied.
    public func appliedVersions(_ db: Database) throws -> Set<Int> {
        try createTable(db)
        return Set(try db.query("SELECT version FROM schema_migrations").map { try $0.get("version", as: Int.self) })
    }

    /// Applies what is pending and returns the versions applied now.
    @discardableResult
    public func migrate(_ db: Database, now: String) throws -> [Int] {
        try createTable(db)
        var applied: [Int] = []
        for migration in migrations {
            let done: Bool = try db.write {
                if try db.scalar("SELECT 1 FROM schema_migrations WHERE version = $1", [migration.version], as: Int.self) != nil {
                    return false
                }
                do {
                    try db.executeScript(migration.sql)
                } catch {
                    throw DatabaseError(.migration, "migration \(migration.version) (\(migration.name)) failed: \(error)")
                }
                try db.execute("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
                               [migration.version, migration.name, now])
                return true
            }
            if done { applied.append(migration.version) }
        }
        return applied
    }

    private func createTable(_ db: Database) throws {
        try db.execute("""
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version INTEGER PRIMARY KEY,
                name TEXT NOT NULL,
                applied_at TEXT NOT NULL
            )
            """)
    }
}
