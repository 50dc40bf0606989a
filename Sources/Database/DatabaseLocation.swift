/// Where Intake's database lives: a SQLite file (the default) or a PostgreSQL server. Every
/// process and thread opens its own connections from this.
public enum DatabaseLocation: Sendable, Equatable, CustomStringConvertible {
    case sqlite(path: String)
    case postgresql(url: String)

    /// `url` when it names PostgreSQL (`postgres://` or `postgresql://`), else the SQLite file.
    public init(url: String?, sqlitePath: String) {
        if let url, !url.isEmpty {
            self = .postgresql(url: url)
        } else {
            self = .sqlite(path: sqlitePath)
        }
    }

    /// Whether `url` is a PostgreSQL connection URL Intake accepts.
    public static func isPostgreSQL(_ url: String) -> Bool {
        url.hasPrefix("postgres://") || url.hasPrefix("postgresql://")
    }

    /// A new connection.
    public func open() throws -> any Database {
        switch self {
        case .sqlite(let path): return try SQLiteDatabase(path: path)
        case .postgresql(let url): return try PostgresDatabase(url: url)
        }
    }

    /// For logs and messages: the file, or the URL with its password replaced.
    public var description: String {
        switch self {
        case .sqlite(let path): return path
        case .postgresql(let url): return Self.redacted(url)
        }
    }

    /// `postgres://user:secret@host/db` as `postgres://user:(redacted)@host/db`; a `password=`
    /// parameter likewise.
    public static func redacted(_ url: String) -> String {
        var text = Substring(url)
        var out = ""
        // The authority's password: between the user's ':' and the '@', before the path.
        if let schemeEnd = url.firstIndex(of: "/").map({ url.index($0, offsetBy: 2, limitedBy: url.endIndex) ?? url.endIndex }),
           url[..<schemeEnd].hasSuffix("://") {
            let authority = url[schemeEnd...].prefix { $0 != "/" && $0 != "?" }
            if let at = authority.lastIndex(of: "@"), let colon = authority[..<at].firstIndex(of: ":") {
                out = String(url[..<url.index(after: colon)]) + "(redacted)"
                text = url[at...]
            }
        }
        // A `password=` parameter, in a query or in key=value form.
        var rest = ""
        var remaining = text
        while let p = remaining.firstRange(of: "password=") {
            rest += remaining[..<p.upperBound] + "(redacted)"
            remaining = remaining[p.upperBound...].drop { $0 != "&" && $0 != " " }
        }
        return out + rest + remaining
    }
}
