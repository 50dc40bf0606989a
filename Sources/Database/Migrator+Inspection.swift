extension Migrator {
    /// The versions `db`'s `schema_migrations` records, read without creating or changing
    /// anything (a backup reads them inside its snapshot, a restore on a file it checks); nil
    /// when there is no such table: a database no migrator has touched.
    public func recordedVersions(_ db: Database) throws -> Set<Int>? {
        let table: String
        switch db.dialect {
        case .sqlite: table = "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'schema_migrations'"
        case .postgresql: table = "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'schema_migrations'"
        }
        guard try db.scalar(table, as: Int.self) == 1 else { return nil }
        return Set(try db.query("SELECT version FROM schema_migrations").map { try $0.get("version", as: Int.self) })
    }

    /// The versions `recorded` (of `db`) holds that none of the migrations for `db`'s dialect
    /// has: a database a newer binary migrated, which this one must not open.
    public func unknownVersions(_ recorded: Set<Int>, in db: Database) -> [Int] {
        recorded.subtracting(migrations(for: db).map(\.version)).sorted()
    }
}
