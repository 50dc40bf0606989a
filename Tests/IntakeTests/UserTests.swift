import Database
import Testing
@testable import Intake
import Sodium

// argon2id itself is tested with the Sodium module (Tests/SodiumTests/PasswordHashTests.swift).
@Suite("User rules")
struct UserRulesTests {
    @Test("rules for e-mail, name and password")
    func rules() throws {
        #expect(try UserRules.email("  Ada@Example.com ") == "Ada@Example.com")
        for bad in ["", "ada", "ada@", "@x.org", "a b@x.org", "ada@localhost", "ada@x."] {
            #expect(throws: ValidationError.self, "\(bad)") { try UserRules.email(bad) }
        }
        #expect(throws: ValidationError.self) { try UserRules.name("   ") }
        #expect(throws: ValidationError.self) { try UserRules.name(String(repeating: "x", count: 101)) }
        #expect(throws: ValidationError.self) { try UserRules.password("short") }
        #expect(try UserRules.password("twelve chars") == "twelve chars")
    }
}

@Suite("Users and sessions")
struct SessionTests {
    @Test("e-mail is unique whatever its case")
    func uniqueEmail() throws {
        try withDatabase { db in
            let users = UserStore(db: db, clock: ManualClock())
            try users.create(email: "ada@example.com", name: "Ada", password: "long enough pw", role: .user)
            let error = try #require(throws: ValidationError.self) {
                try users.create(email: "ADA@example.com", name: "Ada 2", password: "long enough pw", role: .user)
            }
            #expect(error.field == "email")
            #expect(try users.findForSignIn(email: "Ada@EXAMPLE.com")?.user.name == "Ada")
        }
    }

    @Test("a session ends after the idle time, and after the absolute time however busy")
    func expiry() throws {
        try withDatabase { db in
            let clock = ManualClock()
            let policy = SessionPolicy(idleSeconds: 600, absoluteSeconds: 3600, touchIntervalSeconds: 60)
            let user = try UserStore(db: db, clock: clock).create(email: "a@example.com", name: "A", password: "long enough pw", role: .user)
            let sessions = SessionStore(db: db, clock: clock, policy: policy)

            let (idle, _) = try sessions.create(userID: user.id, remoteAddress: "127.0.0.1", userAgent: "t")
            clock.advance(599)
            #expect(try sessions.resolve(token: idle)?.user.id == user.id)
            clock.advance(600)
            #expect(try sessions.resolve(token: idle) == nil, "idle for 600 s")

            let (busy, _) = try sessions.create(userID: user.id, remoteAddress: "127.0.0.1", userAgent: "t")
            for step in 1...7 {
                clock.advance(500)
                #expect(try sessions.resolve(token: busy) != nil, "still live at \(step * 500) s")
            }
            clock.advance(500)
            #expect(try sessions.resolve(token: busy) == nil, "past the absolute limit although used every 500 s")
        }
    }

    @Test("tokens are stored only as hashes; revoking one or all ends them")
    func revocation() throws {
        try withDatabase { db in
            let clock = ManualClock()
            let user = try UserStore(db: db, clock: clock).create(email: "a@example.com", name: "A", password: "long enough pw", role: .user)
            let sessions = SessionStore(db: db, clock: clock)
            let (t1, s1) = try sessions.create(userID: user.id, remoteAddress: "", userAgent: "")
            let (t2, _) = try sessions.create(userID: user.id, remoteAddress: "", userAgent: "")
            #expect(t1.utf8.count == 43 && s1.csrfToken.utf8.count == 43 && t1 != s1.csrfToken)
            let stored = try db.query("SELECT token_hash FROM sessions").map { try $0.get("token_hash", as: [UInt8].self) }
            #expect(stored.count == 2 && !stored.contains(Array(t1.utf8)))
            #expect(stored.contains(Digest.sha256(Array(t1.utf8))))
            try sessions.revoke(token: t1)
            #expect(try sessions.resolve(token: t1) == nil)
            #expect(try sessions.resolve(token: t2) != nil)
            try sessions.revokeAll(userID: user.id)
            #expect(try sessions.resolve(token: t2) == nil)
            #expect(try sessions.resolve(token: "") == nil)
        }
    }

    @Test("a disabled user's sessions stop working")
    func disabled() throws {
        try withDatabase { db in
            let clock = ManualClock()
            let user = try UserStore(db: db, clock: clock).create(email: "a@example.com", name: "A", password: "long enough pw", role: .user)
            let sessions = SessionStore(db: db, clock: clock)
            let (token, _) = try sessions.create(userID: user.id, remoteAddress: "", userAgent: "")
            try db.execute("UPDATE users SET disabled = 1 WHERE id = $1", [user.id])
            #expect(try sessions.resolve(token: token) == nil)
        }
    }
}

@Suite("Sign-in")
struct SignInTests {
    @Test("unknown e-mail, wrong password and disabled account give the same answer")
    func sameAnswer() throws {
        try withDatabase { db in
            let clock = ManualClock()
            let users = UserStore(db: db, clock: clock)
            let ada = try users.create(email: "ada@example.com", name: "Ada", password: "long enough pw", role: .user)
            try users.create(email: "off@example.com", name: "Off", password: "long enough pw", role: .user)
            try db.execute("UPDATE users SET disabled = 1 WHERE email = 'off@example.com'")
            let auth = Authenticator(db: db, clock: clock)
            #expect(try auth.signIn(email: "nobody@example.com", password: "long enough pw", remoteAddress: "1.1.1.1") == .invalidCredentials)
            #expect(try auth.signIn(email: "ada@example.com", password: "wrong password!", remoteAddress: "1.1.1.2") == .invalidCredentials)
            #expect(try auth.signIn(email: "off@example.com", password: "long enough pw", remoteAddress: "1.1.1.3") == .invalidCredentials)
            #expect(try auth.signIn(email: " ADA@example.com", password: "long enough pw", remoteAddress: "1.1.1.4") == .success(ada))
        }
    }

    @Test("after five failures an account must wait, doubling, and a success does not clear the address")
    func throttling() throws {
        try withDatabase { db in
            let clock = ManualClock()
            try UserStore(db: db, clock: clock).create(email: "ada@example.com", name: "Ada", password: "long enough pw", role: .user)
            let auth = Authenticator(db: db, clock: clock)
            for i in 0..<5 {
                #expect(try auth.signIn(email: "ada@example.com", password: "guess \(i)", remoteAddress: "10.0.0.\(i)") == .invalidCredentials)
            }
            #expect(try auth.signIn(email: "ada@example.com", password: "long enough pw", remoteAddress: "10.0.0.9") == .throttled(retryAfterSeconds: 1))
            clock.advance(1)
            #expect(try auth.signIn(email: "ada@example.com", password: "guess 6", remoteAddress: "10.0.0.9") == .invalidCredentials)
            #expect(try auth.signIn(email: "ada@example.com", password: "long enough pw", remoteAddress: "10.0.0.9") == .throttled(retryAfterSeconds: 2))
            clock.advance(2)
            #expect(try auth.signIn(email: "ada@example.com", password: "long enough pw", remoteAddress: "10.0.0.9") != .invalidCredentials)

            // Per address: one address guessing at many accounts is slowed as well.
            for i in 0..<5 {
                _ = try auth.signIn(email: "user\(i)@example.com", password: "x", remoteAddress: "192.0.2.1")
            }
            if case .throttled = try auth.signIn(email: "ada@example.com", password: "long enough pw", remoteAddress: "192.0.2.1") {} else {
                Issue.record("the address should be throttled")
            }
            clock.advance(SignInThrottle.forgetAfter)
            #expect(try auth.signIn(email: "ada@example.com", password: "long enough pw", remoteAddress: "192.0.2.1") != .invalidCredentials)
        }
    }
}
