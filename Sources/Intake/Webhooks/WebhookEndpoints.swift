import Database
import Sodium

/// An owner's webhook endpoint as pages show it: never its secret, which is shown once.
public struct WebhookEndpoint: Sendable, Equatable {
    public let id: Int64
    public let userID: Int64
    public let url: String
    public let description: String
    public let events: [WebhookEventType]
    public let enabled: Bool
    /// Why it is off, when Intake switched it off (nil when the owner did, or it is on).
    public let disabledReason: String?
    /// Since when every attempt has failed (nil after a success).
    public let failingSince: Int64?
    public let createdAt: Int64

    init(row: Row) throws {
        id = try row.get("id")
        userID = try row.get("user_id")
        url = try row.get("url")
        description = try row.get("description")
        events = WebhookEndpoints.parseEvents(try row.get("events"))
        enabled = try row.get("enabled", as: Int64.self) == 1
        disabledReason = try row.get("disabled_reason")
        failingSince = try row.get("failing_since")
        createdAt = try row.get("created_at")
    }
}

/// Owners' webhook endpoints: created, listed, switched on and off, deleted, their secret
/// rotated — each only by their owner (another owner's id is "not found"), each audited. The
/// signing secret (`whsec_` and 256 random bits) is sealed with the site's key like OAuth tokens
/// and returned only by `create` and `rotateSecret`, to be shown that once.
public struct WebhookEndpoints {
    let db: Database
    let clock: EpochClock
    let key: [UInt8]

    public static let secretMarker = "whsec_"
    /// At most this many endpoints per owner.
    public static let perUser = 20

    public init(db: Database, clock: EpochClock, secretKey: [UInt8]) {
        self.db = db
        self.clock = clock
        self.key = secretKey
    }

    static func context(_ id: Int64) -> String { "webhook_endpoint:\(id):secret" }

    static func parseEvents(_ text: String) -> [WebhookEventType] {
        text.split(separator: ",").compactMap { WebhookEventType(rawValue: String($0)) }
    }

    /// A new random signing secret.
    static func newSecret() -> String { secretMarker + Digest.base64URL(Sodium.randomBytes(32)) }

    /// Checks the form: the URL (see `WebhookDestination`), the description, at least one event.
    public static func validate(url: String, description: String, events: [String], allowPrivate: Bool)
        -> Result<(destination: WebhookDestination, description: String, events: [WebhookEventType]), FieldErrors> {
        var errors = FieldErrors()
        let destination = errors.capture("url") { try WebhookDestination(url, allowPrivate: allowPrivate) }
        let text = description.trimmingSpaces()
        if text.count > 200 { errors["description"] = "Keep the description to 200 characters (it has \(text.count))." }
        var chosen: [WebhookEventType] = []
        for name in events {
            guard let type = WebhookEventType(rawValue: name), type != .test else {
                errors["events"] = "“\(name.prefix(60))” is not an event Intake sends."
                continue
            }
            if !chosen.contains(type) { chosen.append(type) }
        }
        if chosen.isEmpty && errors["events"] == nil { errors["events"] = "Choose at least one event to send." }
        guard errors.isEmpty, let destination else { return .failure(errors) }
        return .success((destination, text, WebhookEventType.subscribable.filter(chosen.contains)))
    }

    /// Creates an endpoint; returns it with its secret (shown once), or the form's errors.
    public func create(userID: Int64, url: String, description: String, events: [String], allowPrivate: Bool,
                       by actor: AuditLog.Actor) throws -> Result<(secret: String, endpoint: WebhookEndpoint), FieldErrors> {
        let checked: (destination: WebhookDestination, description: String, events: [WebhookEventType])
        switch Self.validate(url: url, description: description, events: events, allowPrivate: allowPrivate) {
        case .failure(let errors): return .failure(errors)
        case .success(let value): checked = value
        }
        return try db.write {
            let count = try db.scalar("SELECT count(*) FROM webhook_endpoints WHERE user_id = $1", [userID], as: Int.self) ?? 0
            if count >= Self.perUser {
                var errors = FieldErrors()
                errors["url"] = "You have \(count) endpoints; delete one you no longer use first."
                return .failure(errors)
            }
            let now = clock.now()
            // The secret is sealed under a context naming the row, so the row comes first.
            let id = try db.scalar("""
                INSERT INTO webhook_endpoints (user_id, url, description, events, secret_sealed, created_at, updated_at)
                VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id
                """, [userID, checked.destination.url, checked.description, checked.events.map(\.rawValue).joined(separator: ","), [UInt8](), now],
                as: Int64.self)!
            let secret = Self.newSecret()
            try db.execute("UPDATE webhook_endpoints SET secret_sealed = $1 WHERE id = $2",
                           [try SecretBox.seal(secret, key: key, context: Self.context(id)), id])
            try AuditLog(db: db, clock: clock).record(actor, action: "webhook_endpoint.create", entityType: "webhook_endpoint", entityID: String(id),
                                                      after: [("url", checked.destination.url), ("events", checked.events.map(\.rawValue).joined(separator: ","))])
            return .success((secret, try find(id: id, userID: userID)!))
        }
    }

    /// The owner's endpoints, newest first.
    public func list(userID: Int64) throws -> [WebhookEndpoint] {
        try db.query("SELECT * FROM webhook_endpoints WHERE user_id = $1 ORDER BY id DESC", [userID]).map(WebhookEndpoint.init)
    }

    /// One of the owner's endpoints; nil for a missing one and for another owner's alike.
    public func find(id: Int64, userID: Int64) throws -> WebhookEndpoint? {
        try db.queryOne("SELECT * FROM webhook_endpoints WHERE id = $1 AND user_id = $2", [id, userID]).map(WebhookEndpoint.init)
    }

    /// The endpoint's signing secret, unsealed (for signing only: never shown or logged).
    func secret(endpointID: Int64) throws -> String {
        let sealed = try db.scalar("SELECT secret_sealed FROM webhook_endpoints WHERE id = $1", [endpointID], as: [UInt8].self) ?? []
        return try SecretBox.openText(sealed, key: key, context: Self.context(endpointID))
    }

    /// Switches one of the owner's endpoints on or off; false when it is not theirs. Switching on
    /// forgets the failures that switched it off.
    public func setEnabled(id: Int64, userID: Int64, enabled: Bool, by actor: AuditLog.Actor) throws -> Bool {
        try db.write {
            guard try db.execute("""
                UPDATE webhook_endpoints SET enabled = $1, disabled_reason = NULL, failing_since = NULL, updated_at = $2 WHERE id = $3 AND user_id = $4
                """, [enabled ? 1 : 0, clock.now(), id, userID]) == 1 else { return false }
            try AuditLog(db: db, clock: clock).record(actor, action: enabled ? "webhook_endpoint.enable" : "webhook_endpoint.disable",
                                                      entityType: "webhook_endpoint", entityID: String(id))
            return true
        }
    }

    /// Deletes one of the owner's endpoints with its deliveries and their log; false when not theirs.
    public func delete(id: Int64, userID: Int64, by actor: AuditLog.Actor) throws -> Bool {
        try db.write {
            guard let endpoint = try find(id: id, userID: userID) else { return false }
            try db.execute("DELETE FROM webhook_endpoints WHERE id = $1", [id])
            try AuditLog(db: db, clock: clock).record(actor, action: "webhook_endpoint.delete", entityType: "webhook_endpoint", entityID: String(id),
                                                      before: [("url", endpoint.url)])
            return true
        }
    }

    /// Gives one of the owner's endpoints a new secret at once (the old one stops signing); the
    /// new secret, to be shown once, or nil when the endpoint is not theirs.
    public func rotateSecret(id: Int64, userID: Int64, by actor: AuditLog.Actor) throws -> String? {
        try db.write {
            let secret = Self.newSecret()
            guard try db.execute("UPDATE webhook_endpoints SET secret_sealed = $1, updated_at = $2 WHERE id = $3 AND user_id = $4",
                                 [try SecretBox.seal(secret, key: key, context: Self.context(id)), clock.now(), id, userID]) == 1 else { return nil }
            try AuditLog(db: db, clock: clock).record(actor, action: "webhook_endpoint.rotate_secret", entityType: "webhook_endpoint", entityID: String(id))
            return secret
        }
    }
}
