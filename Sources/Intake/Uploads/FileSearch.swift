/// The search box's text as a query of the trigram index `file_search` (file names): a
/// substring phrase when the text has three characters or more (the index's shortest). What the
/// index returns is a superset (it folds case beyond ASCII), so the exact `LIKE` filter still
/// applies to its candidates.
struct FileSearch {
    /// The `MATCH` expression, or nil when the text is too short for the index.
    let match: String?

    init(_ filter: FileStore.Filter) {
        match = filter.search.flatMap { $0.unicodeScalars.count >= 3 ? "{file_name} : " + Self.phrase($0) : nil }
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
