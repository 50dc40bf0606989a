import Foundation
import Database

/// Who did what to which thing, with the values before and after, when, and from where.
/// Written in the same transaction as the change it records.
public struct AuditLog {
    let db: Database
    let clock: EpochClock

    public init(db: Database, clock: EpochClock) {
        self.db = db
        self.clock = clock
    }

    /// The person and address behind a change.
    public struct Actor: Sendable {
        public let userID: Int64?
        public let remoteAddress: String
        public init(userID: Int64?, remoteAddress: String) {
            self.userID = userID
            self.remoteAddress = remoteAddress
        }
    }

    /// Records one change. `before` and `after` are flat field → value maps, stored as JSON.
    public func record(_ actor: Actor, action: String, entityType: String, entityID: String?,
                       before: [(String, String?)]? = nil, after: [(String, String?)]? = nil) throws {
        try db.execute("""
            INSERT INTO audit_log (actor_id, action, entity_type, entity_id, before_json, after_json, remote_address, created_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
            """, [actor.userID, action, entityType, entityID, before.map(Self.json), after.map(Self.json),
                  String(actor.remoteAddress.prefix(64)), clock.now()])
    }

    /// An entry as the audit page shows it.
    public struct Entry: Sendable {
        public let id: Int64
        public let actorEmail: String?
        public let action: String
        public let entityType: String
        public let entityID: String?
        public let before: String?
        public let after: String?
        public let remoteAddress: String
        public let createdAt: Int64
    }

    /// Entries, newest first, filtered by action, entity type, actor e-mail (prefix) and whether a
    /// signed-in person did it (`byPeople`: false is Intake's jobs and clients), paged by id.
    public func entries(action: String?, entityType: String?, actor: String?, byPeople: Bool? = nil, before: Int64?,
                        limit: Int) throws -> (entries: [Entry], more: Bool) {
        var conditions: [String] = []
        if let byPeople { conditions.append(byPeople ? "a.actor_id IS NOT NULL" : "a.actor_id IS NULL") }
        var args: [any DatabaseValueConvertible] = []
        if let action, !action.isEmpty { args.append(action); conditions.append("a.action = $\(args.count)") }
        if let entityType, !entityType.isEmpty { args.append(entityType); conditions.append("a.entity_type = $\(args.count)") }
        if let actor, !actor.isEmpty {
            // The actors first, by the e-mail index: one actor reads its entries in order
            // through (actor_id); several are gathered and sorted.
            var actorArgs: [any DatabaseValueConvertible] = []
            let actorCondition = PrefixSearch.condition(["email_normalized"], startWith: actor.lowercased(), db.dialect, &actorArgs)
            let actors = try db.query("SELECT id FROM users WHERE \(actorCondition) LIMIT 2", actorArgs).map { try $0.get("id", as: Int64.self) }
            if actors.count == 1 {
                args.append(actors[0]); conditions.append("a.actor_id = $\(args.count)")
            } else {
                conditions.append("a.actor_id IN (SELECT id FROM users WHERE \(PrefixSearch.condition(["email_normalized"], startWith: actor.lowercased(), db.dialect, &args)))")
            }
        }
        if let before { args.append(before); conditions.append("a.id < $\(args.count)") }
        args.append(limit + 1)
        let rows = try db.query("""
            SELECT a.id, u.email AS actor_email, a.action, a.entity_type, a.entity_id, a.before_json, a.after_json, a.remote_address, a.created_at
            FROM audit_log a LEFT JOIN users u ON u.id = a.actor_id
            \(conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND "))
            ORDER BY a.id DESC LIMIT $\(args.count)
            """, args)
        var entries = try rows.map { row in
            Entry(id: try row.get("id"), actorEmail: try row.get("actor_email"), action: try row.get("action"),
                  entityType: try row.get("entity_type"), entityID: try row.get("entity_id"), before: try row.get("before_json"),
                  after: try row.get("after_json"), remoteAddress: try row.get("remote_address"), createdAt: try row.get("created_at"))
        }
        let more = entries.count > limit
        if more { entries.removeLast() }
        return (entries, more)
    }

    /// The fields of a stored `before`/`after` object, by name (a null value: nil).
    public static func values(_ json: String?) -> [(String, String?)] {
        guard let data = json?.data(using: .utf8), let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return [] }
        return object.keys.sorted().map { key in (key, object[key] as? String) }
    }

    /// A flat JSON object, keys in the order given.
    static func json(_ fields: [(String, String?)]) -> String {
        "{" + fields.map { "\(quote($0.0)):\($0.1.map(quote) ?? "null")" }.joined(separator: ",") + "}"
    }

    static func quote(_ s: String) -> String {
        var out = "\""
        for c in s.unicodeScalars {
            switch c {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if c.value < 0x20 { out += "\\u00" + (c.value < 16 ? "0" : "") + String(c.value, radix: 16) } else { out.unicodeScalars.append(c) }
            }
        }
        return out + "\""
    }
}
