/// One numbered schema change. Versions only grow; a released migration is never edited.
public struct Migration: Sendable {
    /// The version number, unique and increasing.
    public let version: Int
    /// A short name for logs and the migrations table.
    public let name: String
    /// The statements, written in portable SQL where possible.
    public let sql: String
    /// Runs after `sql`, in the same transaction, for a change that SQL text alone cannot say
    /// (rebuilding a table from its own recorded definition).
    public let body: (@Sendable (Database) throws -> Void)?
    /// Whether the change rebuilds tables that others refer to. SQLite cannot drop a referenced
    /// table with foreign keys on without cascading the drop into its children, so they are
    /// switched off around this migration (outside its transaction, as SQLite requires) and every
    /// reference is checked with `PRAGMA foreign_key_check` before it commits.
    public let rebuildsTables: Bool

    public init(_ version: Int, _ name: String, _ sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
        self.body = nil
        self.rebuildsTables = false
    }

    /// A migration done in code, `rebuildsTables` when it replaces tables others refer to.
    public init(_ version: Int, _ name: String, rebuildsTables: Bool, _ body: @escaping @Sendable (Database) throws -> Void) {
        self.version = version
        self.name = name
        self.sql = ""
        self.body = body
        self.rebuildsTables = rebuildsTables
    }
}

/// Applies migrations in order, each in its own write transaction together with its row in
/// `schema_migrations`, so a failed migration leaves no trace and two processes migrating at
/// once apply each version exactly once.
public struct Migrator: Sendable {
    /// The migrations for SQLite.
    public let migrations: [Migration]
    /// The migrations for PostgreSQL: a database there starts from one script equal to SQLite's
    /// schema at some version, then takes every later migration in its own dialect.
    public let postgresqlMigrations: [Migration]

    /// A migrator over `migrations` (SQLite) and `postgresql`; versions must be unique and ascending.
    public init(_ migrations: [Migration], postgresql: [Migration] = []) {
        for list in [migrations, postgresql] {
            precondition(zip(list, list.dropFirst()).allSatisfy { $0.version < $1.version },
                         "migration versions must be unique and ascending")
        }
        self.migrations = migrations
        self.postgresqlMigrations = postgresql
    }

    /// The migrations for `db`'s dialect.
    public func migrations(for db: Database) -> [Migration] {
        db.dialect == .postgresql ? postgresqlMigrations : migrations
    }

    /// The versions this migrator knows for `db` and has not applied there.
    public func pendingVersions(_ db: Database) throws -> [Int] {
        let applied = try appliedVersions(db)
        return migrations(for: db).map(\.version).filter { !applied.contains($0) }
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
        for migration in migrations(for: db) {
            if migration.rebuildsTables {
                try db.executeScript("PRAGMA foreign_keys = OFF; PRAGMA legacy_alter_table = ON;")
            }
            defer { if migration.rebuildsTables { try? db.executeScript("PRAGMA legacy_alter_table = OFF; PRAGMA foreign_keys = ON;") } }
            let done: Bool = try db.write {
                if try db.scalar("SELECT 1 FROM schema_migrations WHERE version = $1", [migration.version], as: Int.self) != nil {
                    return false
                }
                do {
                    try db.executeScript(migration.sql)
                    try migration.body?(db)
                    if migration.rebuildsTables, let broken = try db.query("PRAGMA foreign_key_check").first {
                        throw DatabaseError(.migration, "a reference no longer holds: \(broken.values)")
                    }
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

    /// In a write transaction: two PostgreSQL sessions creating the table at once would collide
    /// on the catalog even with IF NOT EXISTS (two hosts starting together).
    private func createTable(_ db: Database) throws {
        try db.write { try db.execute("""
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version INTEGER PRIMARY KEY,
                name TEXT NOT NULL,
                applied_at TEXT NOT NULL
            )
            """) }
    }
}
