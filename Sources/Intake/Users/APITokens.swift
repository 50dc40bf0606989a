import Database
import Sodium

/// What an API token may do: read (GET and HEAD), or read and write.
public enum APITokenScope: String, Sendable, CaseIterable {
    case read
    case readWrite = "read_write"

    public var label: String { self == .read ? "Read only" : "Read and write" }
}

/// A personal API token as its owner sees it: never the token itself, which is shown once.
public struct APIToken: Sendable, Equatable {
    public let id: Int64
    public let userID: Int64
    public let name: String
    /// The token's first characters (`itk_AbCd…`), to tell tokens apart.
    public let prefix: String
    public let scope: APITokenScope
    public let createdAt: Int64
    public let lastUsedAt: Int64?
    public let revokedAt: Int64?

    init(row: Row) throws {
        id = try row.get("id")
        userID = try row.get("user_id")
        name = try row.get("name")
        prefix = try row.get("prefix")
        scope = APITokenScope(rawValue: try row.get("scope")) ?? .read
        createdAt = try row.get("created_at")
        lastUsedAt = try row.get("last_used_at")
        revokedAt = try row.get("revoked_at")
    }
}

/// Personal API tokens: scripts call the JSON API with `Authorization: Bearer itk_…` instead of a
/// browser session and CSRF token. A token is `itk_` and 256 random bits; only its SHA-256 is
/// stored, so a copy of the database holds no usable token. Created and revoked by the owner on
/// `/account` (audited); a revoked token, or one of a disabled user, is refused.
public struct APITokens {
    let db: Database
    let clock: EpochClock

    public static let marker = "itk_"
    /// At most this many live tokens per user.
    public static let perUser = 20
    /// `last_used_at` is written at most this often, so calls do not mean writes.
    static let touchIntervalSeconds: Int64 = 60

    public init(db: Database, clock: EpochClock) {
        self.db = db
        self.clock = clock
    }

    /// Creates a token; returns it (shown once, never stored) with its record, or the form's errors.
    public func create(userID: Int64, name rawName: String, scope rawScope: String?, by actor: AuditLog.Actor) throws -> Result<(token: String, record: APIToken), FieldErrors> {
        var errors = FieldErrors()
        let name = rawName.trimmingSpaces()
        if name.isEmpty { errors["token_name"] = "Name the token after what will use it (\"backup script\")." }
        else if name.count > 80 { errors["token_name"] = "Keep the name to 80 characters (it has \(name.count))." }
        let scope = rawScope.flatMap(APITokenScope.init(rawValue:))
        if scope == nil { errors["token_scope"] = "Choose read only, or read and write." }
        return try db.write {
            let live = try db.scalar("SELECT count(*) FROM api_tokens WHERE user_id = $1 AND revoked_at IS NULL", [userID], as: Int.self) ?? 0
            if live >= Self.perUser { errors["token_name"] = "You have \(live) tokens; revoke one you no longer use first." }
            guard errors.isEmpty, let scope else { return .failure(errors) }
            let token = Self.marker + Digest.base64URL(Sodium.randomBytes(32))
            let prefix = String(token.prefix(Self.marker.count + 6)) + "…"
            let row = try db.queryOne("""
                INSERT INTO api_tokens (user_id, name, token_hash, prefix, scope, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING *
                """, [userID, name, Self.hash(token), prefix, scope.rawValue, clock.now()])!
            let record = try APIToken(row: row)
            try AuditLog(db: db, clock: clock).record(actor, action: "api_token.create", entityType: "api_token", entityID: String(record.id),
                                                      after: [("name", name), ("scope", scope.rawValue), ("prefix", prefix)])
            return .success((token, record))
        }
    }

    /// The user's tokens, newest first (revoked ones too, marked).
    public func list(userID: Int64) throws -> [APIToken] {
        try db.query("SELECT * FROM api_tokens WHERE user_id = $1 ORDER BY created_at DESC, id DESC", [userID]).map(APIToken.init)
    }

    /// Revokes one of the user's own tokens; false when there is no such live token of theirs.
    public func revoke(id: Int64, userID: Int64, by actor: AuditLog.Actor) throws -> Bool {
        try db.write {
            guard try db.execute("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL",
                                 [clock.now(), id, userID]) == 1 else { return false }
            try AuditLog(db: db, clock: clock).record(actor, action: "api_token.revoke", entityType: "api_token", entityID: String(id),
                                                      before: [("revoked", "no")], after: [("revoked", "yes")])
            return true
        }
    }

    /// The live token's record and its user, or nil (unknown, revoked, the user disabled).
    public func resolve(token: String) throws -> (token: APIToken, user: User)? {
        guard token.hasPrefix(Self.marker), token.utf8.count <= 128 else { return nil }
        guard let row = try db.queryOne("""
            SELECT t.id AS token_id, t.user_id, t.name AS token_name, t.prefix, t.scope, t.created_at AS token_created_at, t.last_used_at, t.revoked_at,
                   u.id, u.email, u.name, u.role, u.disabled, u.created_at, u.updated_at
            FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1
            """, [Self.hash(token)]) else { return nil }
        let user = try User(row: row)
        let lastUsed: Int64? = try row.get("last_used_at")
        guard try row.get("revoked_at", as: Int64?.self) == nil, !user.disabled else { return nil }
        let now = clock.now()
        if lastUsed.map({ now - $0 >= Self.touchIntervalSeconds }) ?? true {
            try db.execute("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2", [now, try row.get("token_id", as: Int64.self)])
        }
        let record = APIToken(id: try row.get("token_id"), userID: user.id, name: try row.get("token_name"), prefix: try row.get("prefix"),
                              scope: APITokenScope(rawValue: try row.get("scope")) ?? .read, createdAt: try row.get("token_created_at"),
                              lastUsedAt: lastUsed, revokedAt: nil)
        return (record, user)
    }

    static func hash(_ token: String) -> [UInt8] { Digest.sha256(Array(token.utf8)) }
}

extension APIToken {
    init(id: Int64, userID: Int64, name: String, prefix: String, scope: APITokenScope, createdAt: Int64, lastUsedAt: Int64?, revokedAt: Int64?) {
        self.id = id
        self.userID = userID
        self.name = name
        self.prefix = prefix
        self.scope = scope
        self.createdAt = createdAt
        self.lastUsedAt = lastUsedAt
        self.revokedAt = revokedAt
    }
}
