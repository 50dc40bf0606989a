/// A strict reader of Prometheus' text exposition format (version 0.0.4), for the tests of
/// `/metrics`: it refuses what Prometheus would refuse, and more — a sample before its family's
/// `# TYPE`, a family split in two, a repeated series, a counter not named `_total`, a histogram
/// whose buckets are not cumulative, lack `+Inf`, or disagree with its `_count`.
public struct ParsedExposition: Sendable {
    /// One sample line.
    public struct Sample: Sendable, Hashable {
        public let name: String
        public let labels: [String: String]
        public let value: Double
    }

    /// Each family's `# TYPE`, by its name.
    public private(set) var types: [String: String] = [:]
    /// Each family's `# HELP`, unescaped, by its name.
    public private(set) var help: [String: String] = [:]
    /// The samples in the order they came.
    public private(set) var samples: [Sample] = []

    /// The value of the series `name` with exactly `labels`, or nil.
    public func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        samples.first { $0.name == name && $0.labels == labels }?.value
    }

    /// The samples named `name` whose labels include `matching`.
    public func samples(_ name: String, matching: [String: String] = [:]) -> [Sample] {
        samples.filter { sample in sample.name == name && matching.allSatisfy { sample.labels[$0.key] == $0.value } }
    }

    /// Reads `text`; a violation throws, naming its line.
    public static func parse(_ text: String) throws -> ParsedExposition {
        var out = ParsedExposition()
        guard text.isEmpty || text.hasSuffix("\n") else { throw ExpositionError(line: 0, "the text does not end with a line feed") }
        var closed: Set<String> = []
        var current: String?
        var seenSeries: Set<String> = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().enumerated() {
            let number = index + 1
            func fail(_ why: String) -> ExpositionError { ExpositionError(line: number, "\(why): \(line)") }
            if line.isEmpty { continue }
            if line.hasPrefix("#") {
                let parts = line.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: false).map(String.init)
                guard parts.count >= 3, parts[0] == "#", parts[1] == "HELP" || parts[1] == "TYPE" else { continue }  // a comment
                let name = parts[2]
                guard isMetricName(name) else { throw fail("a bad metric name") }
                if name != current {
                    if let current { closed.insert(current) }
                    guard !closed.contains(name) else { throw fail("family \(name) is split in two") }
                    current = name
                }
                let rest = parts.count > 3 ? parts[3] : ""
                if parts[1] == "HELP" {
                    guard out.help[name] == nil else { throw fail("a second HELP") }
                    out.help[name] = try unescape(rest, quotes: false, fail)
                } else {
                    guard out.types[name] == nil else { throw fail("a second TYPE") }
                    guard out.samples.allSatisfy({ family(of: $0.name, types: out.types) != name }) else { throw fail("TYPE after samples") }
                    guard ["counter", "gauge", "histogram", "summary", "untyped"].contains(rest) else { throw fail("an unknown type") }
                    if rest == "counter" && !name.hasSuffix("_total") { throw fail("a counter not named _total") }
                    out.types[name] = rest
                }
                continue
            }
            let sample = try parseSample(Substring(line), fail)
            guard let family = family(of: sample.name, types: out.types) else { throw fail("a sample before its family's TYPE") }
            guard family == current else { throw fail("a sample of \(family) outside its family") }
            let series = sample.name + "{" + sample.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",") + "}"
            guard seenSeries.insert(series).inserted else { throw fail("a repeated series") }
            out.samples.append(sample)
        }
        try out.checkHistograms()
        return out
    }

    /// The family a sample belongs to: its own name, or a histogram's for `_bucket`, `_sum`, `_count`.
    static func family(of name: String, types: [String: String]) -> String? {
        if types[name] != nil && types[name] != "histogram" { return name }
        for suffix in ["_bucket", "_sum", "_count"] where name.hasSuffix(suffix) {
            let base = String(name.dropLast(suffix.count))
            if types[base] == "histogram" { return base }
        }
        return nil
    }

    private func checkHistograms() throws {
        for (name, type) in types where type == "histogram" {
            var byLabels: [[String: String]: [(le: Double, count: Double)]] = [:]
            for sample in samples where sample.name == name + "_bucket" {
                guard let le = sample.labels["le"], let bound = le == "+Inf" ? Double.infinity : Double(le) else {
                    throw ExpositionError(line: 0, "\(name): a bucket without a valid le")
                }
                var rest = sample.labels
                rest["le"] = nil
                byLabels[rest, default: []].append((bound, sample.value))
            }
            for (labels, buckets) in byLabels {
                guard zip(buckets, buckets.dropFirst()).allSatisfy({ $0.le < $1.le && $0.count <= $1.count }) else {
                    throw ExpositionError(line: 0, "\(name)\(labels): buckets not in order of le, or not cumulative")
                }
                guard buckets.last?.le == .infinity else { throw ExpositionError(line: 0, "\(name)\(labels): no +Inf bucket") }
                guard value(name + "_count", labels) == buckets.last?.count else {
                    throw ExpositionError(line: 0, "\(name)\(labels): _count is not the +Inf bucket")
                }
                guard value(name + "_sum", labels) != nil else { throw ExpositionError(line: 0, "\(name)\(labels): no _sum") }
            }
        }
    }

    private static func parseSample(_ line: Substring, _ fail: (String) -> ExpositionError) throws -> Sample {
        var rest = line
        let name = String(rest.prefix { $0 != "{" && $0 != " " })
        guard isMetricName(name) else { throw fail("a bad metric name") }
        rest = rest.dropFirst(name.count)
        var labels: [String: String] = [:]
        if rest.first == "{" {
            rest = rest.dropFirst()
            while rest.first != "}" {
                let label = String(rest.prefix { $0 != "=" })
                guard isMetricName(label), !label.contains(":"), !label.hasPrefix("__") else { throw fail("a bad label name") }
                rest = rest.dropFirst(label.count)
                guard rest.hasPrefix("=\"") else { throw fail("a label without a quoted value") }
                rest = rest.dropFirst(2)
                var raw = ""
                var escaped = false
                while let c = rest.first {
                    rest = rest.dropFirst()
                    if escaped { raw.append("\\"); raw.append(c); escaped = false; continue }
                    if c == "\\" { escaped = true; continue }
                    if c == "\"" { break }
                    raw.append(c)
                }
                guard labels[label] == nil else { throw fail("a repeated label") }
                labels[label] = try unescape(raw, quotes: true, fail)
                if rest.first == "," { rest = rest.dropFirst() } else if rest.first != "}" { throw fail("labels not separated by commas") }
            }
            rest = rest.dropFirst()
        }
        guard rest.first == " " else { throw fail("no space before the value") }
        let fields = rest.dropFirst().split(separator: " ", omittingEmptySubsequences: false)
        guard fields.count == 1 || (fields.count == 2 && Int64(fields[1]) != nil) else { throw fail("a value then something else") }
        let text = String(fields[0])
        let value: Double
        switch text {
        case "+Inf": value = .infinity
        case "-Inf": value = -.infinity
        case "NaN": value = .nan
        default:
            guard let number = Double(text), text.allSatisfy({ $0.isNumber || "+-.eE".contains($0) }) else { throw fail("a value that is not a number") }
            value = number
        }
        return Sample(name: name, labels: labels, value: value)
    }

    /// Undoes the format's escapes: `\\`, `\n`, and in label values `\"`; any other is an error.
    private static func unescape(_ text: String, quotes: Bool, _ fail: (String) -> ExpositionError) throws -> String {
        var out = ""
        var escaped = false
        for c in text {
            if escaped {
                switch c {
                case "\\": out.append("\\")
                case "n": out.append("\n")
                case "\"" where quotes: out.append("\"")
                default: throw fail("an unknown escape \\\(c)")
                }
                escaped = false
            } else if c == "\\" {
                escaped = true
            } else {
                if quotes && c == "\"" { throw fail("an unescaped quote") }
                out.append(c)
            }
        }
        guard !escaped else { throw fail("a backslash at the end") }
        return out
    }

    private static func isMetricName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first.isASCII, first.properties.isAlphabetic || first == "_" || first == ":" else { return false }
        return name.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_" || $0 == ":") }
    }
}

/// Where and why an exposition is not valid.
public struct ExpositionError: Error, CustomStringConvertible {
    public let line: Int
    public let why: String
    public init(line: Int, _ why: String) {
        self.line = line
        self.why = why
    }
    public var description: String { "line \(line): \(why)" }
}
