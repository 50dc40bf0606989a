import Database

/// The search box's text as a query of the file names' trigram index: a substring when the text
/// has three characters or more (the index's shortest). What the index returns is a superset (it
/// folds case beyond ASCII), so the exact `LIKE` filter still applies to its candidates.
///
/// SQLite's index is the FTS5 table `file_search` (a phrase `MATCH`); PostgreSQL's is a `pg_trgm`
/// index on the lower-cased name (a `LIKE` on the same expression).
struct FileSearch {
    /// The argument for `condition`, or nil when the text is too short for the index.
    let match: String?
    private let dialect: SQLDialect

    init(_ filter: FileStore.Filter, _ dialect: SQLDialect) {
        self.dialect = dialect
        match = filter.search.flatMap { text in
            guard text.unicodeScalars.count >= 3 else { return nil }
            switch dialect {
            case .sqlite: return "{file_name} : " + Self.phrase(text)
            case .postgresql: return LikePattern.containing(text.lowercased())
            }
        }
    }

    /// The condition on `f` with `match` as parameter `n`.
    func condition(parameter n: Int) -> String {
        switch dialect {
        case .sqlite: return "f.id IN (SELECT rowid FROM file_search WHERE file_search MATCH $\(n))"
        case .postgresql: return "lower(f.file_name::text) LIKE $\(n) ESCAPE '\\'"
        }
    }

    /// `text` as an FTS5 string: in double quotes, with its double quotes doubled.
    static func phrase(_ text: String) -> String {
        var out = "\""
        for c in text.unicodeScalars {
            if c == "\"" { out += "\"\"" } else { out.unicodeScalars.append(c) }
        }
        return out + "\""
    }
}
