/// SQLite's way to change what `ALTER TABLE` cannot (a column's constraints, `AUTOINCREMENT`):
/// the table is created anew from its own recorded definition with the change applied, the rows
/// copied with their ids, the old table dropped and the new one renamed into its place, and its
/// indexes and triggers created again (sqlite.org/lang_altertable.html, "other kinds of table
/// schema changes"). Run it inside a migration that `rebuildsTables`, so foreign keys are off.
public enum TableRebuild {
    /// Rebuilds `table` with `change` applied to its `CREATE TABLE` text.
    public static func rebuild(_ db: Database, table: String, change: (String) throws -> String) throws {
        guard let create = try db.scalar("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = $1", [table], as: String.self) else {
            throw DatabaseError(.migration, "there is no table \(table) to rebuild")
        }
        let dependents = try db.query("SELECT sql FROM sqlite_master WHERE tbl_name = $1 AND type IN ('index', 'trigger') AND sql IS NOT NULL",
                                      [table]).map { try $0.get("sql", as: String.self) }
        let changed = try change(create)
        // A table that was renamed into place before is recorded with its name quoted.
        guard let head = ["CREATE TABLE \(table) (", "CREATE TABLE \"\(table)\" ("].first(where: changed.hasPrefix) else {
            throw DatabaseError(.migration, "\(table): unexpected definition \(changed.prefix(60))")
        }
        let scratch = table + "__rebuilt"
        try db.execute("CREATE TABLE \(scratch) (" + changed.dropFirst(head.count))
        try db.execute("INSERT INTO \(scratch) SELECT * FROM \(table)")
        try db.execute("DROP TABLE \(table)")
        try db.execute("ALTER TABLE \(scratch) RENAME TO \(table)")
        for sql in dependents { try db.execute(sql) }
    }

    /// The change that makes `id INTEGER PRIMARY KEY` an `AUTOINCREMENT` key: SQLite then never
    /// gives a deleted row's id to a new row (a plain rowid reuses the largest one after a delete).
    public static func autoincrementID(_ create: String) throws -> String {
        let key = "id INTEGER PRIMARY KEY,"
        let parts = create.split(separator: key, maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2 else { throw DatabaseError(.migration, "no \(key) in \(create.prefix(60))") }
        return parts[0] + "id INTEGER PRIMARY KEY AUTOINCREMENT," + parts[1]
    }
}
