import Database

/// The search box's text as a query of the file names' trigram index: a substring when the text
/// has three characters or more (the index's shortest). What the index returns is a superset (it
/// folds case beyond ASCII, and SQLite's query asks for some of the text's trigrams, not all of
/// them in order), so the exact `LIKE` filter still applies to its candidates.
///
/// SQLite's index is the FTS5 table `file_search` of one owner's trigrams (migration 39: each
/// trigram a word salted with the owner's id, so a search reads that owner's matches only);
/// PostgreSQL's is a `pg_trgm` index on the lower-cased name (a `LIKE` on the same expression).
struct FileSearch {
    /// The argument for `condition`, or nil when the text is too short for the index.
    let match: String?
    private let dialect: SQLDialect

    init(_ filter: FileStore.Filter, userID: Int64, _ dialect: SQLDialect) {
        self.dialect = dialect
        match = filter.search.flatMap { text in
            guard text.unicodeScalars.count >= 3 else { return nil }
            switch dialect {
            case .sqlite: return Self.words(userID: userID, Self.cover(text)).map { "\"\($0)\"" }.joined(separator: " AND ")
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

    /// How many names the index offers, counted up to `cap` (`match` as parameter 1): a bounded
    /// probe of the index's own entries, no file read.
    func candidates(cap: Int) -> String {
        switch dialect {
        case .sqlite: return "SELECT count(*) FROM (SELECT rowid FROM file_search WHERE file_search MATCH $1 LIMIT \(cap))"
        case .postgresql: return "SELECT count(*) FROM (SELECT 1 FROM file_uploads f WHERE \(condition(parameter: 1)) LIMIT \(cap)) x"
        }
    }

    /// Trigrams of `text` that between them hold every one of its characters: those starting at
    /// 0, 3, 6… and the last one. A phrase of all its trigrams would make FTS5 read every one's
    /// positions; these, joined by AND, are a third of them without positions, and the `LIKE`
    /// keeps exactly the names that hold the text.
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

    /// The index's words for `trigrams` of `userID`'s names, as migration 39's triggers write
    /// them: `u<id>x` and the trigram's UTF-8 in hexadecimal, ASCII letters lower-cased first
    /// (SQLite's `lower`). Only letters and digits: nothing in them is FTS5 syntax.
    static func words(userID: Int64, _ trigrams: [String]) -> [String] {
        let digits = Array("0123456789ABCDEF".utf8)
        return trigrams.map { trigram in
            var word = Array("u\(userID)x".utf8)
            for byte in trigram.utf8 {
                let folded = (65...90).contains(byte) ? byte + 32 : byte
                word += [digits[Int(folded >> 4)], digits[Int(folded & 15)]]
            }
            return String(decoding: word, as: UTF8.self)
        }
    }
}
