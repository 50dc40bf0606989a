/// One part of a route's pattern. Outside `Router` so that it is not a generic type: a type
/// nested in a generic one has its metadata looked up at run time, on every use while matching.
private enum RouteSegment: Equatable {
    case literal(String)
    case parameter(String)
    case rest(String)
}

/// Maps a method and a path to a handler, with `:name` parameters and a trailing `*name` that
/// takes the rest of the path. Generic over the handler so the web layer stays transport-free
/// and the application decides what a handler receives.
public struct Router<Handler> {
    private struct Route {
        let method: HTTPMethod
        let pattern: String
        let segments: [RouteSegment]
        let handler: Handler
    }

    /// The outcome of matching a request.
    public enum Match {
        /// A handler and the decoded path parameters.
        case found(Handler, [String: String])
        /// The path exists but not for this method; `allowed` lists the methods that do.
        case methodNotAllowed(allowed: [HTTPMethod])
        /// No route has this path.
        case notFound
        /// The path itself is malformed (a bad percent-escape or invalid UTF-8).
        case badPath
    }

    private var routes: [Route] = []

    /// An empty router.
    public init() {}

    /// Adds a route. Patterns are absolute: `/api/portals/:id`, `/api/tus/*rest`.
    public mutating func add(_ method: HTTPMethod, _ pattern: String, _ handler: Handler) {
        let segments: [RouteSegment] = pattern.split(separator: "/").map { part in
            if part.hasPrefix(":") { return .parameter(String(part.dropFirst())) }
            if part.hasPrefix("*") { return .rest(String(part.dropFirst())) }
            return .literal(String(part))
        }
        precondition(!routes.contains { $0.method == method && $0.segments == segments },
                     "route \(method) \(pattern) is registered twice")
        routes.append(Route(method: method, pattern: pattern, segments: segments, handler: handler))
    }

    /// Every route's method, pattern (`/api/portals/:id`) and handler, in the order they were
    /// added: what a check of the routes against a description of them (the API's OpenAPI
    /// document) reads.
    public var entries: [(method: HTTPMethod, pattern: String, handler: Handler)] { routes.map { ($0.method, $0.pattern, $0.handler) } }

    /// Finds the handler for `method` and `path` (percent-encoded, without query).
    /// `HEAD` is served by a `GET` route when there is no `HEAD` route of its own.
    public func match(_ method: HTTPMethod, _ path: String) -> Match {
        // Cut at each "/" by bytes (an ASCII byte, so every cut falls between characters);
        // empty segments are skipped, so doubled and trailing slashes make no new paths.
        var parts: [String] = []
        let utf8 = path.utf8
        var start = utf8.startIndex
        while start < utf8.endIndex {
            let end = utf8[start...].firstIndex(of: UInt8(ascii: "/")) ?? utf8.endIndex
            if start < end {
                let raw = path[start..<end]
                if raw.utf8.contains(UInt8(ascii: "%")) {
                    guard let decoded = URLEncodedForm.decodePathSegment(raw) else { return .badPath }
                    parts.append(decoded)
                } else {
                    parts.append(String(raw))
                }
            }
            start = end < utf8.endIndex ? utf8.index(after: end) : end
        }
        var allowed: [HTTPMethod] = []
        var getFallback: (Handler, [String: String])?
        for route in routes {
            guard let params = Self.bind(route.segments, parts) else { continue }
            if route.method == method { return .found(route.handler, params) }
            if method == .head && route.method == .get { getFallback = (route.handler, params) }
            if !allowed.contains(route.method) { allowed.append(route.method) }
        }
        if let getFallback { return .found(getFallback.0, getFallback.1) }
        if allowed.isEmpty { return .notFound }
        if allowed.contains(.get) && !allowed.contains(.head) { allowed.append(.head) }
        return .methodNotAllowed(allowed: allowed)
    }

    private static func bind(_ segments: [RouteSegment], _ parts: [String]) -> [String: String]? {
        var params: [String: String] = [:]
        var i = 0
        for segment in segments {
            switch segment {
            case .literal(let text):
                guard i < parts.count, parts[i] == text else { return nil }
            case .parameter(let name):
                guard i < parts.count else { return nil }
                params[name] = parts[i]
            case .rest(let name):
                params[name] = parts[i...].joined(separator: "/")
                return params
            }
            i += 1
        }
        return i == parts.count ? params : nil
    }
}
