import Database
import Sodium

/// How long sessions live.
public struct SessionPolicy: Sendable {
    /// A session unused for this long ends.
    public var idleSeconds: Int64
    /// A session ends this long after sign-in, however much it is used.
    public var absoluteSeconds: Int64
    /// `last_seen_at` is written at most this often, so reading pages does not mean writing rows.
    public var touchIntervalSeconds: Int64

    public init(idleSeconds: Int64 = 12 * 3600, absoluteSeconds: Int64 = 7 * 86400, touchIntervalSeconds: Int64 = 60) {
        self.idleSeconds = idleSeconds
        self.absoluteSeconds = absoluteSeconds
        self.touchIntervalSeconds = touchIntervalSeconds
    }
}

/// A signed-in browser.
public struct Session: Sendable, Equatable {
    public let id: Int64
    public let userID: Int64
    /// The token every form post and script request of this session must carry.
    public let csrfToken: String
    public let createdAt: Int64
    public let lastSeenAt: Int64
    public let expiresAt: Int64
}

/// Sessions: a random 256-bit token in the cookie, only its SHA-256 in the database, so a copy
/// of the database does not hold usable session cookies.
public struct SessionStore {
    let db: Database
    let clock: EpochClock
    let policy: SessionPolicy

    public init(db: Database, clock: EpochClock, policy: SessionPolicy = SessionPolicy()) {
        self.db = db
        self.clock = clock
        self.policy = policy
    }

    /// Starts a session for `userID`; returns the cookie token (shown once, never stored).
    public func create(userID: Int64, remoteAddress: String, userAgent: String) throws -> (token: String, session: Session) {
        let token = Digest.base64URL(Sodium.randomBytes(32))
        let csrf = Digest.base64URL(Sodium.randomBytes(32))
        let now = clock.now()
        let row = try db.queryOne("""
            INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, last_seen_at, expires_at, remote_address, user_agent)
            VALUES ($1, $2, $3, $4, $4, $5, $6, $7)
            RETURNING id, user_id, csrf_token, created_at, last_seen_at, expires_at
            """, [Self.hash(token), userID, csrf, now, now + policy.absoluteSeconds,
                  String(remoteAddress.prefix(64)), String(userAgent.prefix(256))])!
        return (token, try Self.session(row))
    }

    /// The live session and its user for a cookie token, or nil when unknown, expired (idle or
    /// absolute) or the user is disabled. An expired session is deleted on the way.
    public func resolve(token: String) throws -> (session: Session, user: User)? {
        guard token.utf8.count <= 128, !token.isEmpty else { return nil }
        let hash = Self.hash(token)
        guard let row = try db.queryOne("""
            SELECT s.id AS session_id, s.user_id, s.csrf_token, s.created_at AS session_created_at, s.last_seen_at, s.expires_at,
                   u.id, u.email, u.name, u.role, u.disabled, u.created_at, u.updated_at
            FROM sessions s JOIN users u ON u.id = s.user_id
            WHERE s.token_hash = $1
            """, [hash]) else { return nil }
        let session = Session(id: try row.get("session_id"), userID: try row.get("user_id"), csrfToken: try row.get("csrf_token"),
                              createdAt: try row.get("session_created_at"), lastSeenAt: try row.get("last_seen_at"),
                              expiresAt: try row.get("expires_at"))
        let user = try User(row: row)
        let now = clock.now()
        if now >= session.expiresAt || now - session.lastSeenAt >= policy.idleSeconds || user.disabled {
            try db.execute("DELETE FROM sessions WHERE id = $1", [session.id])
            return nil
        }
        if now - session.lastSeenAt >= policy.touchIntervalSeconds {
            try db.execute("UPDATE sessions SET last_seen_at = $1 WHERE id = $2", [now, session.id])
        }
        return (session, user)
    }

    /// Ends the session of this token (sign-out).
    public func revoke(token: String) throws {
        try db.execute("DELETE FROM sessions WHERE token_hash = $1", [Self.hash(token)])
    }

    /// Ends every session of a user (password change, disabling).
    public func revokeAll(userID: Int64) throws {
        try db.execute("DELETE FROM sessions WHERE user_id = $1", [userID])
    }

    /// Removes sessions past their absolute or idle expiry.
    @discardableResult
    public func deleteExpired() throws -> Int {
        let now = clock.now()
        return try db.execute("DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at <= $2", [now, now - policy.idleSeconds])
    }

    /// How many sessions are live now.
    public func liveCount() throws -> Int {
        let now = clock.now()
        return try db.scalar("SELECT count(*) FROM sessions WHERE expires_at > $1 AND last_seen_at > $2",
                             [now, now - policy.idleSeconds], as: Int.self) ?? 0
    }

    static func hash(_ token: String) -> [UInt8] { Digest.sha256(Array(token.utf8)) }

    static func session(_ row: Row) throws -> Session {
        Session(id: try row.get("id"), userID: try row.get("user_id"), csrfToken: try row.get("csrf_token"),
                createdAt: try row.get("created_at"), lastSeenAt: try row.get("last_seen_at"), expiresAt: try row.get("expires_at"))
    }
}
