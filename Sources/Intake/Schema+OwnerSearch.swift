import Database

/// Migration 39: SQLite's file-name index per owner. The trigram index of migration 25 held every
/// name on the site, so a search cost as much as the site's matches: "pdf" for an owner of
/// 200,000 files among a million read 166,000 of them (650 ms). Each name is now indexed as its
/// trigrams salted with its owner, `u<user id>x<hex of the trigram's UTF-8, ASCII letters
/// lower-cased>` (one word to FTS5's unicode61 tokenizer), so an owner's search reads only that
/// owner's matches. `FileSearch` writes the same words for the text searched. The words are made
/// by the triggers from `file_search_positions` (1…4096: a trigger may not hold a `WITH`).
///
/// FTS5's incremental merging is off (`automerge` 0): with an owner's words in every segment it
/// tripled the cost of recording a file (2.7 ms against 0.8 at a million files); segments are
/// merged sixteen at a time when a level holds that many (`crisismerge`), at most 22 ms in 3,000
/// inserts measured, and a search reads at most fifteen small segments a level.
///
/// PostgreSQL keeps its `pg_trgm` index: the migration is SQLite's only.
enum OwnerSearchSchema {
    static let version = 39
    static let name = "file-name search per owner"

    /// The indexed words of `row` (`NEW`, `OLD` or `f`), NULL for a name under three characters.
    static func words(_ row: String) -> String {
        """
        (SELECT group_concat('u' || \(row).user_id || 'x' || hex(lower(substr(\(row).file_name, p.n, 3))), ' ') \
        FROM file_search_positions p WHERE p.n <= length(\(row).file_name) - 2)
        """
    }

    /// Indexes every file row (into an empty index): the migration's backfill, and `KeptCounts`'.
    static let fill = "INSERT INTO file_search (rowid, words) SELECT f.id, \(words("f")) FROM file_uploads f;"

    static let sqlite = """
        DROP TRIGGER file_uploads_search_in;
        DROP TRIGGER file_uploads_search_out;
        DROP TRIGGER file_uploads_search_again;
        DROP TABLE file_search;
        CREATE TABLE file_search_positions (n INTEGER PRIMARY KEY);
        WITH RECURSIVE i(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM i WHERE n < 4096)
        INSERT INTO file_search_positions (n) SELECT n FROM i;
        CREATE VIRTUAL TABLE file_search USING fts5 (words, content = '', tokenize = 'unicode61');
        INSERT INTO file_search (file_search, rank) VALUES ('automerge', 0);
        \(fill)
        CREATE TRIGGER file_uploads_search_in AFTER INSERT ON file_uploads BEGIN
            INSERT INTO file_search (rowid, words) VALUES (NEW.id, \(words("NEW")));
        END;
        CREATE TRIGGER file_uploads_search_out AFTER DELETE ON file_uploads BEGIN
            INSERT INTO file_search (file_search, rowid, words) VALUES ('delete', OLD.id, \(words("OLD")));
        END;
        CREATE TRIGGER file_uploads_search_again AFTER UPDATE OF file_name, user_id ON file_uploads BEGIN
            INSERT INTO file_search (file_search, rowid, words) VALUES ('delete', OLD.id, \(words("OLD")));
            INSERT INTO file_search (rowid, words) VALUES (NEW.id, \(words("NEW")));
        END;
        """

    static let migrations = (sqlite: Migration(version, name, sqlite),
                             postgresql: Migration(version, name, "-- SQLite's index only: PostgreSQL keeps its pg_trgm index.\nSELECT 1;"))
}
