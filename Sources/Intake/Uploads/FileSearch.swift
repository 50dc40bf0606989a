import Database

/// The search box's text as a query of the file names' trigram index: a substring when the text
/// has three characters or more (the index's shortest). What the index returns is a superset (it
/// folds case beyond ASCII, and SQLite's query asks for some of the text's trigrams, not all of
/// them in order), so the exact `LIKE` filter still applies to its candidates.
///
/// SQLite's index is the FTS5 table `file_search`; PostgreSQL's is a `pg_trgm` index on the
/// lower-cased name (a `LIKE` on the same expression).
struct FileSearch {
    /// The argument for `condition`, or nil when the text is too short for the index.
    let match: String?
    private let dialect: SQLDialect

    init(_ filter: FileStore.Filter, _ dialect: SQLDialect) {
        self.dialect = dialect
        match = filter.search.flatMap { text in
            guard text.unicodeScalars.count >= 3 else { return nil }
            switch dialect {
            case .sqlite: return "{file_name} : (" + Self.cover(text).map(Self.quoted).joined(separator: " AND ") + ")"
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

    /// Trigrams of `text` that between them hold every one of its characters: those starting at
    /// 0, 3, 6… and the last one. A phrase of all its trigrams would make FTS5 read every one's
    /// positions (a common one is in a large share of all names: 10 ms for "passport-123" at a
    /// million files); these, joined by AND, are a third of them without positions (3 ms), and
    /// the `LIKE` keeps exactly the names that hold the text.
    static func cover(_ text: String) -> [String] {
        let scalars = Array(text.unicodeScalars)
        guard scalars.count >= 3 else { return [] }
        var starts = Array(stride(from: 0, through: scalars.count - 3, by: 3))
        if starts.last != scalars.count - 3 { starts.append(scalars.count - 3) }
        return starts.map { start in
            var trigram = ""
            trigram.unicodeScalars.append(contentsOf: scalars[start..<start + 3])
            return trigram
        }
    }

    /// `text` as an FTS5 string: in double quotes, with its double quotes doubled.
    static func quoted(_ text: String) -> String {
        var out = "\""
        for c in text.unicodeScalars {
            if c == "\"" { out += "\"\"" } else { out.unicodeScalars.append(c) }
        }
        return out + "\""
    }
}
