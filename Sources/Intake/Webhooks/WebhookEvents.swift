import Database
import Foundation
import Sodium

/// Writes webhook events into the outbox (`webhook_deliveries`): one row for each of the owner's
/// enabled endpoints that subscribes to the event's type, in the caller's transaction, so an event
/// exists exactly when the change it reports was committed. The sender (`WebhookSender`) posts
/// them later; an owner without endpoints costs one indexed query.
public struct WebhookEvents {
    let db: Database
    let clock: EpochClock

    public init(db: Database, clock: EpochClock) {
        self.db = db
        self.clock = clock
    }

    /// A new event id: `evt_` and 128 random bits.
    static func newEventID() -> String { "evt_" + Digest.base64URL(Sodium.randomBytes(16)) }

    /// The JSON body of an event: `{"id", "type", "created", "data"}`, keys sorted, slashes
    /// unescaped.
    public static func payload(id: String, type: WebhookEventType, created: Int64, data: [String: Any]) -> String {
        let object: [String: Any] = ["id": id, "type": type.rawValue, "created": created, "data": data]
        let bytes = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Queues `type` with `data` for `userID`'s subscribed endpoints (call inside the transaction
    /// of the change); returns the event id, or nil when no endpoint takes it. `data` is only
    /// evaluated when one does, so an owner without endpoints costs one indexed query.
    @discardableResult
    public func emit(userID: Int64, type: WebhookEventType, data: @autoclosure () throws -> [String: Any]) throws -> String? {
        let endpoints = try db.query("""
            SELECT id FROM webhook_endpoints WHERE user_id = $1 AND enabled = 1 AND (',' || events || ',') LIKE $2
            """, [userID, "%,\(type.rawValue),%"]).map { try $0.get("id", as: Int64.self) }
        guard !endpoints.isEmpty else { return nil }
        return try queue(endpoints: endpoints, type: type, data: try data())
    }

    /// Queues one event for exactly `endpoints` (the test event goes to one endpoint whatever it
    /// subscribes to); returns its id.
    @discardableResult
    func queue(endpoints: [Int64], type: WebhookEventType, data: [String: Any]) throws -> String {
        let now = clock.now()
        let id = Self.newEventID()
        let body = Self.payload(id: id, type: type, created: now, data: data)
        try db.write {
            for endpoint in endpoints {
                try db.execute("""
                    INSERT INTO webhook_deliveries (endpoint_id, event_id, type, payload, status, next_attempt_at, deliver_until, created_at)
                    VALUES ($1, $2, $3, $4, 'pending', $5, $6, $5)
                    """, [endpoint, id, type.rawValue, body, now, now + WebhookSchedule.windowSeconds])
            }
        }
        return id
    }
}

/// The public fields of the objects events carry: never a token, secret or provider credential.
public enum WebhookPayloads {
    /// A file (`file_uploads` row joined with its portal's slug): id, portal id and slug, name,
    /// size, SHA-256, status, created.
    public static func file(db: Database, id: Int64) throws -> [String: Any]? {
        guard let row = try db.queryOne("""
            SELECT f.id, f.portal_id, p.slug, f.file_name, f.size_bytes, f.sha256, f.status, f.created_at, f.user_id
            FROM file_uploads f LEFT JOIN portals p ON p.id = f.portal_id WHERE f.id = $1
            """, [id]) else { return nil }
        return file(id: try row.get("id"), portalID: try row.get("portal_id"), portalSlug: try row.get("slug"), name: try row.get("file_name"),
                    size: try row.get("size_bytes"), sha256: try row.get("sha256"), status: try row.get("status"), created: try row.get("created_at"))
    }

    public static func file(id: Int64, portalID: Int64?, portalSlug: String?, name: String, size: Int64, sha256: String?, status: String,
                            created: Int64) -> [String: Any] {
        ["object": "file", "id": id, "portal_id": portalID.map { $0 as Any } ?? NSNull(), "portal_slug": portalSlug.map { $0 as Any } ?? NSNull(),
         "name": name, "size": size, "sha256": sha256.map { $0 as Any } ?? NSNull(), "status": status, "created": created]
    }

    /// A portal: id, slug, name, whether it is on, and whether Intake (not the owner) switched it.
    public static func portal(id: Int64, slug: String, name: String, active: Bool, automatic: Bool, reason: String?) -> [String: Any] {
        ["object": "portal", "id": id, "slug": slug, "name": name, "active": active, "automatic": automatic,
         "reason": reason.map { $0 as Any } ?? NSNull()]
    }
}
