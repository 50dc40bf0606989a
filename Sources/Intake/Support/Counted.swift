/// A count and its noun as pages say it: "1 file", "3 files" — never "file(s)".
public enum Counted {
    public static func text<N: BinaryInteger>(_ n: N, _ one: String, _ many: String? = nil) -> String {
        n == 1 ? "1 \(one)" : "\(n) \(many ?? one + "s")"
    }
}
