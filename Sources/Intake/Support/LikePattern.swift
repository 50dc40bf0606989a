/// Text typed into a search box, as a SQL `LIKE` pattern (with `ESCAPE '\\'`).
public enum LikePattern {
    /// `abc` → `abc%`, with LIKE's wildcards in the input escaped.
    public static func prefix(_ text: String) -> String {
        var out = ""
        for c in text {
            if c == "%" || c == "_" || c == "\\" { out.append("\\") }
            out.append(c)
        }
        return out + "%"
    }

    /// `abc` → `%abc%`: the text anywhere.
    public static func containing(_ text: String) -> String { "%" + String(prefix(text).dropLast()) + "%" }
}
