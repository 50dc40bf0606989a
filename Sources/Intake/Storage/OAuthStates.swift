import Database
import Integrations
import Sodium

/// Authorization requests in flight. The `state` sent to the provider is random, bound to the
/// session that started it, usable once and for ten minutes; the PKCE verifier waits here sealed.
public struct OAuthStates {
    let db: Database
    let clock: EpochClock
    let key: [UInt8]

    public static let lifetimeSeconds: Int64 = 600

    public init(db: Database, clock: EpochClock, secretKey: [UInt8]) {
        self.db = db
        self.clock = clock
        self.key = secretKey
    }

    /// A new state for `sessionID` and its PKCE pair.
    public func begin(sessionID: Int64, provider: OAuthProvider.Kind) throws -> (state: String, pkce: PKCE) {
        let state = Digest.base64URL(Sodium.randomBytes(32))
        let pkce = PKCE()
        let hash = Digest.sha256(Array(state.utf8))
        let sealed = try SecretBox.seal(pkce.verifier, key: key, context: "oauth_state:" + Sodium.hex(hash))
        try db.write {
            try db.execute("DELETE FROM oauth_states WHERE expires_at <= $1", [clock.now()])
            try db.execute("INSERT INTO oauth_states (state_hash, session_id, provider, verifier_sealed, expires_at) VALUES ($1, $2, $3, $4, $5)",
                           [hash, sessionID, provider.rawValue, sealed, clock.now() + Self.lifetimeSeconds])
        }
        return (state, pkce)
    }

    /// Takes the state back: the PKCE pair if it exists, belongs to this session and provider, and
    /// has not expired. It is deleted either way, so it can never be used twice.
    public func finish(state: String, sessionID: Int64, provider: OAuthProvider.Kind) throws -> PKCE? {
        guard !state.isEmpty, state.utf8.count <= 128 else { return nil }
        let hash = Digest.sha256(Array(state.utf8))
        return try db.write {
            guard let row = try db.queryOne("SELECT session_id, provider, verifier_sealed, expires_at FROM oauth_states WHERE state_hash = $1", [hash]) else {
                return nil
            }
            try db.execute("DELETE FROM oauth_states WHERE state_hash = $1", [hash])
            guard try row.get("session_id", as: Int64.self) == sessionID, try row.get("provider", as: String.self) == provider.rawValue,
                  try row.get("expires_at", as: Int64.self) > clock.now() else { return nil }
            let verifier = try SecretBox.openText(try row.get("verifier_sealed"), key: key, context: "oauth_state:" + Sodium.hex(hash))
            return PKCE(verifier: verifier)
        }
    }
}
