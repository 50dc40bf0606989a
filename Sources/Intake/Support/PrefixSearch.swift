import Database

/// Text typed into a list's search box, matched as the start of case-folded columns (an e-mail
/// address, a name) through their NOCASE indexes. SQLite's LIKE uses such an index for a prefix
/// (its LIKE optimisation). PostgreSQL's ILIKE uses none, so there the prefix is also a range of
/// each column — `citext COLLATE nocase`, whose index orders by ASCII-folded text, as the range
/// compares — and ILIKE then keeps exactly the matches. Both fold ASCII letters only, in effect:
/// a text outside the range is never a candidate.
enum PrefixSearch {
    /// The condition that one of `columns` starts with `text`; its arguments are appended to `args`.
    static func condition(_ columns: [String], startWith text: String, _ dialect: SQLDialect,
                          _ args: inout [any DatabaseValueConvertible]) -> String {
        args.append(LikePattern.prefix(text))
        let pattern = args.count
        let like = columns.map { "\($0) \(dialect.like) $\(pattern) ESCAPE '\\'" }.joined(separator: " OR ")
        guard dialect == .postgresql else { return "(\(like))" }
        args += [text, text + "\u{10FFFF}"]
        let (low, high) = (args.count - 1, args.count)
        let ranges = columns.map { "(\($0) >= $\(low) AND \($0) < $\(high))" }.joined(separator: " OR ")
        return "(\(ranges)) AND (\(like))"
    }
}
