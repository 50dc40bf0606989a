import Database

/// The owner's storage analytics — files and bytes stored, uploads and failed deliveries per day,
/// the largest clients, the file types, the recent failures — for all their files, one storage
/// account or one portal. Everything but the recent failures is read from the rollups the
/// schema's triggers keep (`AnalyticsSchema`), bounded by the days shown; the recent failures are
/// the first rows of an index of failed files. No read grows with the number of files.
public struct StorageAnalytics {
    let db: Database
    let clock: EpochClock

    public init(db: Database, clock: EpochClock) {
        self.db = db
        self.clock = clock
    }

    /// Days the analytics show, today included.
    public static let days = 90
    /// How many clients and recent failures are listed.
    public static let listed = 10

    /// Whose files: all the owner's, one storage account's or one portal's. The caller has
    /// checked that the account or portal is the owner's; the queries also keep to the owner.
    public enum Scope: Sendable, Equatable {
        case owner
        case account(Int64)
        case portal(Int64)
    }

    /// One UTC day (days since 1970-01-01): files received, their bytes, and how many of them
    /// failed delivery.
    public struct Day: Sendable, Equatable {
        public let day: Int64
        public let uploads: Int64
        public let bytes: Int64
        public let failures: Int64
    }

    /// Files stored and their bytes under one name (a client, an extension).
    public struct Total: Sendable, Equatable {
        public let name: String
        public let files: Int64
        public let bytes: Int64
    }

    /// The files stored of one family of types (nil: in none the product knows), with the
    /// extensions that make it up, largest first.
    public struct TypeTotal: Sendable, Equatable {
        public let family: FileTypes.Family?
        public let files: Int64
        public let bytes: Int64
        public let extensions: [Total]

        /// How the page names it.
        public var label: String { family?.label ?? "Other" }
    }

    /// A file whose delivery failed.
    public struct Failure: Sendable, Equatable {
        public let id: Int64
        public let portalName: String
        public let fileName: String
        public let size: Int64
        public let client: String?
        public let reason: String?
        public let createdAt: Int64
    }

    public struct Report: Sendable, Equatable {
        public let scope: Scope
        /// Files stored (delivered) and their bytes.
        public let files: Int64
        public let bytes: Int64
        /// Every day of the window, oldest first, zero where nothing came.
        public let days: [Day]
        /// The largest clients by bytes stored, at most `listed`; a client who gave neither a
        /// name nor an address is the name "".
        public let clients: [Total]
        /// Every family with files, largest first.
        public let types: [TypeTotal]
        /// The latest failed deliveries, newest first, at most `listed`.
        public let recentFailures: [Failure]

        public var firstDay: Int64 { days.first?.day ?? 0 }
        public var lastDay: Int64 { days.last?.day ?? 0 }
    }

    /// The report for `scope` of `userID`'s files over the `days` days that end today; nil when
    /// the account or portal is not the owner's (to be answered as one that does not exist).
    public func report(userID: Int64, scope: Scope, days: Int = Self.days) throws -> Report? {
        let today = clock.now() / 86400
        let first = today - Int64(max(days, 1)) + 1
        return try db.read {
            let owned: Bool = switch scope {
            case .owner: true
            case .account(let account): try db.scalar("SELECT 1 FROM storage_accounts WHERE id = $1 AND user_id = $2", [account, userID], as: Int.self) != nil
            case .portal(let portal): try db.scalar("SELECT 1 FROM portals WHERE id = $1 AND user_id = $2", [portal, userID], as: Int.self) != nil
            }
            guard owned else { return nil }
            let (filter, id): (String, Int64) = switch scope {
            case .owner: ("user_id = $2 AND ", userID)  // (every parameter is named: PostgreSQL types each from its use)
            case .account(let account): ("storage_account_id = $2 AND ", account)
            case .portal(let portal): ("portal_id = $2 AND ", portal)
            }
            var byDay: [Int64: Day] = [:]
            for row in try db.query("""
                SELECT day, sum(uploads) AS uploads, sum(bytes) AS bytes, sum(failures) AS failures FROM upload_days
                WHERE \(filter)user_id = $1 AND day >= $3 AND day <= $4 GROUP BY day
                """, [userID, id, first, today]) {
                let day = Day(day: try row.get("day"), uploads: try row.get("uploads"), bytes: try row.get("bytes"), failures: try row.get("failures"))
                byDay[day.day] = day
            }
            let series = (first...today).map { byDay[$0] ?? Day(day: $0, uploads: 0, bytes: 0, failures: 0) }

            let extensions = try db.query("""
                SELECT extension, sum(files) AS files, sum(bytes) AS bytes FROM upload_types
                WHERE \(filter)user_id = $1 GROUP BY extension
                """, [userID, id]).map { Total(name: try $0.get("extension"), files: try $0.get("files"), bytes: try $0.get("bytes")) }
                .filter { $0.files > 0 }
            let types = Self.families(extensions)

            let (clientScope, clientID): (String, Int64) = switch scope {
            case .owner: ("user", userID)
            case .account(let account): ("account", account)
            case .portal(let portal): ("portal", portal)
            }
            let clients = try db.query("""
                SELECT client, files, bytes FROM upload_clients
                WHERE scope = $1 AND scope_id = $2 AND files > 0 ORDER BY bytes DESC, client DESC LIMIT $3
                """, [clientScope, clientID, Self.listed]).map { Total(name: try $0.get("client"), files: try $0.get("files"), bytes: try $0.get("bytes")) }

            // Each read runs down one index of failed files, newest first, stopping after `listed`:
            // the owner's (user_id, status, created_at), or the account's or portal's partial one.
            let failedFilter = switch scope {
            case .owner: "f.user_id = $1"
            case .account: "f.storage_account_id = $1"
            case .portal: "f.portal_id = $1"
            }
            let failures = try db.query("""
                SELECT f.id, p.name AS portal_name, f.file_name, f.size_bytes, f.client_name, f.client_email, f.failure_reason, f.created_at
                FROM file_uploads f JOIN portals p ON p.id = f.portal_id
                WHERE \(failedFilter) AND f.status = 'failed' ORDER BY f.created_at DESC, f.id DESC LIMIT $2
                """, [id, Self.listed]).map { row in
                let email: String? = try row.get("client_email"), name: String? = try row.get("client_name")
                return Failure(id: try row.get("id"), portalName: try row.get("portal_name"), fileName: try row.get("file_name"),
                               size: try row.get("size_bytes"), client: [email, name].compactMap { $0 }.first { !$0.isEmpty },
                               reason: try row.get("failure_reason"), createdAt: try row.get("created_at"))
            }
            return Report(scope: scope, files: types.reduce(0) { $0 + $1.files }, bytes: types.reduce(0) { $0 + $1.bytes },
                          days: series, clients: clients, types: types, recentFailures: failures)
        }
    }

    /// Extensions grouped by the family `FileTypes` puts them in, largest first (by bytes, then
    /// files, then the families' order, "Other" last on a tie).
    static func families(_ extensions: [Total]) -> [TypeTotal] {
        let grouped = Dictionary(grouping: extensions) { FileTypes.kind(extension: $0.name)?.family }
        func largestFirst(_ a: Total, _ b: Total) -> Bool { (a.bytes, a.files, b.name) > (b.bytes, b.files, a.name) }
        return grouped.map { family, members in
            TypeTotal(family: family, files: members.reduce(0) { $0 + $1.files }, bytes: members.reduce(0) { $0 + $1.bytes },
                      extensions: members.sorted(by: largestFirst))
        }.sorted { a, b in
            if (a.bytes, a.files) != (b.bytes, b.files) { return (a.bytes, a.files) > (b.bytes, b.files) }
            switch (a.family, b.family) {
            case let (x?, y?): return x < y
            case (_?, nil): return true
            default: return false
            }
        }
    }
}
