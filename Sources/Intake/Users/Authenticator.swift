import Database
import Sodium

/// The outcome of a sign-in attempt. Unknown e-mail, wrong password and disabled account are
/// one case on purpose: the page must not tell them apart.
public enum SignInResult: Sendable, Equatable {
    case success(User)
    case invalidCredentials
    case throttled(retryAfterSeconds: Int64)
}

/// Checks credentials, with failures slowed down per account and per client address.
public struct Authenticator {
    let users: UserStore
    let throttle: SignInThrottle

    public init(db: Database, clock: EpochClock) {
        users = UserStore(db: db, clock: clock)
        throttle = SignInThrottle(db: db, clock: clock)
    }

    public func signIn(email: String, password: String, remoteAddress: String) throws -> SignInResult {
        let keys = SignInThrottle.keys(email: email, remoteAddress: remoteAddress)
        if let wait = try throttle.retryAfter(keys: keys) { return .throttled(retryAfterSeconds: wait) }
        let found = try users.findForSignIn(email: email)
        // Always one argon2id verification, against a decoy when there is no such user, so the
        // response time does not reveal whether the e-mail is registered.
        let matches = PasswordHash.verify(password, against: found?.passwordHash ?? PasswordHash.decoy)
        guard let found, matches, !found.user.disabled else {
            try throttle.recordFailure(keys: keys)
            return .invalidCredentials
        }
        // Only the account's counter: signing in to one's own account must not reset the count of
        // failures from an address that is guessing at others.
        try throttle.reset(keys: [keys[0]])
        if PasswordHash.needsRehash(found.passwordHash) { try users.rehash(id: found.user.id, password: password) }
        return .success(found.user)
    }
}

/// Failed sign-ins counted per key (the e-mail typed, the client address). Five failures are
/// free; after that each attempt must wait 1, 2, 4 … seconds (at most five minutes) after the
/// previous failure. A key with no failure for 15 minutes starts over. Kept in the database so
/// every worker process sees the same counts.
public struct SignInThrottle {
    let db: Database
    let clock: EpochClock

    public static let freeFailures = 5
    public static let maximumDelay: Int64 = 300
    public static let forgetAfter: Int64 = 15 * 60

    public init(db: Database, clock: EpochClock) {
        self.db = db
        self.clock = clock
    }

    static func keys(email: String, remoteAddress: String) -> [String] {
        ["email:" + email.trimmingSpaces().lowercased(), "address:" + remoteAddress]
    }

    /// Seconds to wait before another attempt may be checked, if any key is throttled.
    public func retryAfter(keys: [String]) throws -> Int64? {
        let now = clock.now()
        var wait: Int64 = 0
        for key in keys {
            guard let row = try db.queryOne("SELECT failures, last_failure_at FROM sign_in_failures WHERE key = $1", [key]) else { continue }
            let failures: Int = try row.get("failures")
            let last: Int64 = try row.get("last_failure_at")
            guard now - last < Self.forgetAfter, failures >= Self.freeFailures else { continue }
            let delay = min(Int64(1) << min(failures - Self.freeFailures, 20), Self.maximumDelay)
            wait = max(wait, last + delay - now)
        }
        return wait > 0 ? wait : nil
    }

    public func recordFailure(keys: [String]) throws {
        let now = clock.now()
        try db.write {
            for key in keys {
                try db.execute("""
                    INSERT INTO sign_in_failures (key, failures, last_failure_at) VALUES ($1, 1, $2)
                    ON CONFLICT (key) DO UPDATE SET
                        failures = CASE WHEN $2 - sign_in_failures.last_failure_at >= $3 THEN 1 ELSE sign_in_failures.failures + 1 END,
                        last_failure_at = $2
                    """, [key, now, Self.forgetAfter])
            }
        }
    }

    public func reset(keys: [String]) throws {
        try db.write {
            for key in keys { try db.execute("DELETE FROM sign_in_failures WHERE key = $1", [key]) }
        }
    }
}
