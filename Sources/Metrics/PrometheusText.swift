/// Metrics written in Prometheus' text exposition format, version 0.0.4: each family's `# HELP`
/// and `# TYPE` lines, then its samples, one a line as `name{label="value",…} value`.
///
/// From the format's definition: label values escape backslash, double quote and line feed
/// (`\\`, `\"`, `\n`); help text escapes backslash and line feed; a histogram is a family of
/// cumulative `name_bucket{le="…"}` samples ending with `le="+Inf"`, then `name_sum` and
/// `name_count`, and the `+Inf` bucket equals the count. Names are checked when a family is
/// begun, so a mistake fails the first test that renders it, not a scrape.
public struct PrometheusText {
    /// The media type of the format (`Content-Type` of the response).
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    /// The exposition so far.
    public private(set) var text = ""

    /// What kind of metric a family is (its `# TYPE`).
    public enum Kind: String, Sendable {
        /// Only goes up (resets when the process that keeps it starts again); names end `_total`.
        case counter
        /// Goes up and down: a figure read when the metrics are.
        case gauge
        /// Observations counted into buckets, with their sum and count.
        case histogram
    }

    /// An empty exposition.
    public init() {}

    /// Begins a family: its help and type lines. Samples of it follow.
    public mutating func family(_ name: String, _ kind: Kind, help: String) {
        precondition(Self.isMetricName(name), "'\(name)' is not a metric name")
        precondition(kind != .counter || name.hasSuffix("_total"), "a counter's name ends in _total: \(name)")
        text += "# HELP \(name) \(Self.escapeHelp(help))\n# TYPE \(name) \(kind.rawValue)\n"
    }

    /// One sample of a counter or gauge (every figure Intake reports is a whole number).
    public mutating func sample(_ name: String, _ labels: [(String, String)] = [], _ value: UInt64) {
        line(name, labels, String(value))
    }

    /// One histogram's samples: `bucketCounts` holds the observations that fell in each bucket
    /// alone — those up to `upperBounds[0]`, those above it up to `upperBounds[1]`, …, and last
    /// those above every bound — and is written cumulatively, with the `+Inf` bucket and the count.
    public mutating func histogram(_ name: String, _ labels: [(String, String)] = [], upperBounds: [Double], bucketCounts: [UInt64], sum: Double) {
        precondition(bucketCounts.count == upperBounds.count + 1, "one count per bound, and one above them all")
        precondition(zip(upperBounds, upperBounds.dropFirst()).allSatisfy { $0 < $1 }, "bounds go up")
        var cumulative: UInt64 = 0
        for (bound, count) in zip(upperBounds, bucketCounts) {
            cumulative &+= count
            line(name + "_bucket", labels + [("le", Self.format(bound))], String(cumulative))
        }
        cumulative &+= bucketCounts[upperBounds.count]
        line(name + "_bucket", labels + [("le", "+Inf")], String(cumulative))
        line(name + "_sum", labels, Self.format(sum))
        line(name + "_count", labels, String(cumulative))
    }

    private mutating func line(_ name: String, _ labels: [(String, String)], _ value: String) {
        text += name
        if !labels.isEmpty {
            text += "{"
            for (i, (label, labelValue)) in labels.enumerated() {
                precondition(Self.isLabelName(label), "'\(label)' is not a label name")
                text += (i == 0 ? "" : ",") + label + "=\"" + Self.escapeLabelValue(labelValue) + "\""
            }
            text += "}"
        }
        text += " " + value + "\n"
    }

    /// A label value as the format quotes it: `\` → `\\`, `"` → `\"`, line feed → `\n`.
    public static func escapeLabelValue(_ value: String) -> String { escape(value, quote: true) }

    /// Help text as the format writes it: `\` → `\\`, line feed → `\n` (a quote stays as it is).
    public static func escapeHelp(_ help: String) -> String { escape(help, quote: false) }

    private static func escape(_ text: String, quote: Bool) -> String {
        guard text.utf8.contains(where: { $0 == UInt8(ascii: "\\") || $0 == UInt8(ascii: "\n") || (quote && $0 == UInt8(ascii: "\"")) }) else { return text }
        var out = ""
        for c in text.unicodeScalars {
            switch c {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\"" where quote: out += "\\\""
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    /// A value as Go's `strconv.FormatFloat(v, 'g', -1, 64)` would write the usual ones: whole
    /// numbers without a fraction (`10`, so `le="10"` reads as other exporters' do), `+Inf`,
    /// `-Inf`, `NaN`, and otherwise the shortest text that reads back as the same double.
    public static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }

    /// `[a-zA-Z_:][a-zA-Z0-9_:]*`
    static func isMetricName(_ name: String) -> Bool {
        isName(name, colons: true)
    }

    /// `[a-zA-Z_][a-zA-Z0-9_]*`, and not reserved (`__…`).
    static func isLabelName(_ name: String) -> Bool {
        isName(name, colons: false) && !name.hasPrefix("__")
    }

    private static func isName(_ name: String, colons: Bool) -> Bool {
        guard let first = name.utf8.first else { return false }
        func letter(_ c: UInt8) -> Bool { (65...90).contains(c) || (97...122).contains(c) || c == 95 || (colons && c == 58) }
        return letter(first) && name.utf8.allSatisfy { letter($0) || (48...57).contains($0) }
    }
}
