import Intake
import Integrations
import Web

/// Which counters Intake keeps for `/metrics`, and where each lives in a slot of the shared
/// counters. Made from the route table, so every process of one `intake serve` (one binary, one
/// configuration) makes the same; its fingerprint, a hash of every counter's name, is written into
/// the shared file by the supervisor and checked by each worker that maps it.
///
/// Cardinality stays bounded by construction: a request is counted by its route's pattern
/// (`/p/:slug`, never the path it asked for) or `unmatched`, by its method as the route has it
/// (or one of eight for an unmatched request), and by its status, one of a fixed list or else its
/// class (`4xx`).
///
/// A class: every request reads it, and a struct of four arrays would be copied (four retains and
/// releases) each time.
public final class MetricsLayout: Sendable {
    /// The route label of a request no route answered: no such path, a method the path does not
    /// take, or a malformed path.
    public static let unmatched = "unmatched"
    /// The method labels of unmatched requests; any other method token is `other`.
    static let unmatchedMethods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "other"]
    /// Statuses counted as themselves; any other is counted under its class.
    static let statuses = [200, 201, 204, 206, 301, 302, 303, 304, 307, 308, 400, 401, 402, 403, 404, 405, 409, 410, 411, 412, 413,
                           415, 416, 422, 423, 429, 431, 460, 499, 500, 501, 502, 503, 504]
    static let statusLabels = statuses.map(String.init) + ["1xx", "2xx", "3xx", "4xx", "5xx"]
    /// `statusLabels.count`, kept so that counting a request reads no global.
    let statusCount: Int
    /// Upper bounds of the request duration buckets, in seconds (a last bucket takes the rest).
    public static let durationBounds: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

    /// Route patterns in the order of the route table, then `unmatched`.
    let routes: [String]
    /// Each request line: a route, by its index in `routes`, and a method.
    let lines: [(route: Int, method: String)]
    /// The line of each route table entry, by its position in the table.
    let entryLines: [Int]
    /// The line of a HEAD request that a GET entry answers (nil for other entries).
    let headLines: [Int?]

    /// Where each metric's counters start in a slot.
    let requests: Int, durationBuckets: Int, durationSums: Int, uploads: Int, uploadBytes: Int, refreshes: Int, jobs: Int
    /// Counters in a slot.
    public let count: Int
    /// FNV-1a over every counter's name: equal layouts, equal fingerprints.
    public let fingerprint: UInt64

    /// The layout for a route table: its entries' methods and patterns, in order.
    public init(routes entries: [(method: HTTPMethod, pattern: String)]) {
        let statusCount = Self.statusLabels.count
        self.statusCount = statusCount
        var routes: [String] = []
        var routeIndex: [String: Int] = [:]
        for entry in entries where routeIndex[entry.pattern] == nil {
            routeIndex[entry.pattern] = routes.count
            routes.append(entry.pattern)
        }
        let unmatchedRoute = routes.count
        routes.append(Self.unmatched)
        var lines: [(route: Int, method: String)] = []
        var entryLines: [Int] = []
        var headLines: [Int?] = []
        for entry in entries {
            entryLines.append(lines.count)
            lines.append((routeIndex[entry.pattern]!, entry.method.rawValue))
        }
        for entry in entries {
            // The router answers HEAD with the GET route when no HEAD route takes the path.
            let ownHead = entries.contains { $0.method == .head && $0.pattern == entry.pattern }
            if entry.method == .get && !ownHead {
                headLines.append(lines.count)
                lines.append((routeIndex[entry.pattern]!, HTTPMethod.head.rawValue))
            } else {
                headLines.append(nil)
            }
        }
        for method in Self.unmatchedMethods { lines.append((unmatchedRoute, method)) }
        self.routes = routes
        self.lines = lines
        self.entryLines = entryLines
        self.headLines = headLines

        var next = 0
        func take(_ n: Int) -> Int { defer { next += n }; return next }
        requests = take(lines.count * statusCount)
        durationBuckets = take(routes.count * (Self.durationBounds.count + 1))
        durationSums = take(routes.count)
        uploads = take(UploadTransfer.allCases.count)
        uploadBytes = take(UploadTransfer.allCases.count)
        refreshes = take(OAuthProvider.Kind.allCases.count * TokenRefreshResult.allCases.count)
        jobs = take(Jobs.names.count * 2)
        count = next

        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ text: String) {
            for byte in text.utf8 + [0] { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        }
        for line in lines { mix("request \(routes[line.route]) \(line.method)") }
        Self.statusLabels.forEach { mix("status \($0)") }
        Self.durationBounds.forEach { mix("bucket \($0)") }
        UploadTransfer.allCases.forEach { mix("upload \($0.rawValue)") }
        OAuthProvider.Kind.allCases.forEach { mix("provider \($0.rawValue)") }
        TokenRefreshResult.allCases.forEach { mix("refresh \($0.rawValue)") }
        Jobs.names.forEach { mix("job \($0)") }
        mix("count \(next)")
        fingerprint = hash
    }

    /// The line of an unmatched request with `method`.
    func unmatchedLine(_ method: HTTPMethod) -> Int {
        let column = Self.unmatchedMethods.firstIndex(of: method.rawValue) ?? Self.unmatchedMethods.count - 1
        return lines.count - Self.unmatchedMethods.count + column
    }

    /// The column of a status: its own, or its class's.
    static func statusColumn(_ code: Int) -> Int {
        if let own = statuses.firstIndex(of: code) { return own }
        return statuses.count + min(max(code / 100, 1), 5) - 1
    }

    /// The bucket an observation of `seconds` falls in.
    static func durationBucket(_ seconds: Double) -> Int {
        durationBounds.firstIndex { seconds <= $0 } ?? durationBounds.count
    }
}
