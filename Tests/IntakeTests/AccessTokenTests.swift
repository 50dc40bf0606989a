import Curl
import Database
import Foundation
import Integrations
@testable import Intake
import Sodium
import Synchronization
import Testing
import TestSupport

@Suite("Access tokens: refresh, lease, account states", .serialized)
struct AccessTokenTests {
    let key = Sodium.randomBytes(32)
    let actor = AuditLog.Actor(userID: nil, remoteAddress: "test")

    struct Setup {
        let location: DatabaseLocation
        let fake: FakeOAuthServer
        let provider: OAuthProvider
        let oauthID: Int64
        let storageID: Int64
        let userID: Int64
    }

    /// A database with a user whose Google account is connected (tokens from the fake's real
    /// code flow), a Drive storage account and one portal on it.
    func setUp(_ db: any Database, clock: EpochClock) throws -> Setup {
        let fake = try FakeOAuthServer(kind: .google)
        let provider = OAuthProvider.google(clientID: fake.clientID, clientSecret: fake.clientSecret, authorizationURL: fake.authorizationURL,
                                            tokenURL: fake.tokenURL, userinfoURL: fake.identityURL, revocationURL: fake.revocationURL)
        let oauth = OAuthClient(provider: provider, sleep: { _ in })
        let pkce = PKCE()
        let redirect = try CurlClient().perform(HTTPRequest(url: oauth.authorizationURL(state: "s", pkce: pkce, redirectURI: "http://x/cb")))
        let location = try #require(redirect.header("location"))
        let code = try #require(URLComponents(string: location)?.queryItems?.first { $0.name == "code" }?.value)
        let curl = try CurlClient()
        let grant = try oauth.exchange(code: code, pkce: pkce, redirectURI: "http://x/cb", client: curl)
        let identity = try oauth.identity(accessToken: grant.accessToken, client: curl)
        let user = try UserStore(db: db, clock: clock).create(email: "o@example.com", name: "O", password: "long enough pw", role: .user)
        let tokens = AccessTokens(db: db, clock: clock, secretKey: key, providers: [.google: provider], http: curl)
        let oauthID = try tokens.store(userID: user.id, provider: .google, identity: identity, grant: grant, scopes: "drive.file")
        let storage = try StorageAccountStore(db: db, clock: clock).createOrGet(
            userID: user.id, provider: .googleDrive, providerAccountID: identity.accountID, email: identity.email, displayName: "Drive", by: actor).account
        try db.execute("INSERT INTO portals (user_id, name, slug, storage_account_id, created_at, updated_at) VALUES ($1, 'P', 'p', $2, 0, 0)",
                       [user.id, storage.id])
        return Setup(location: db.location, fake: fake, provider: provider, oauthID: oauthID, storageID: storage.id, userID: user.id)
    }

    func withSetup(_ clock: ManualClock, _ body: (Setup) throws -> Void) throws {
        try withDatabase { db in
            let setup = try setUp(db, clock: clock)
            defer { setup.fake.stop() }
            try body(setup)
        }
    }

    func tokens(_ s: Setup, _ clock: EpochClock, retry: RetryPolicy = RetryPolicy(),
                onStatusChange: ((StorageAccountStatusChange) -> Void)? = nil, counters: any OperationCounters = .none) throws -> AccessTokens {
        AccessTokens(db: try s.location.open(), clock: clock, secretKey: key, providers: [.google: s.provider],
                     http: try CurlClient(), retry: retry, onStatusChange: onStatusChange, counters: counters)
    }

    @Test("each refresh at the provider is counted by its result: ok, unavailable after 503s, revoked; a fresh token counts nothing")
    func refreshesCounted() throws {
        let clock = ManualClock(Int64(Date().timeIntervalSince1970))
        try withSetup(clock) { s in
            let counters = RecordingCounters()
            var quick = RetryPolicy()
            quick.maxAttempts = 2
            quick.baseDelaySeconds = 0.01
            let t = try tokens(s, clock, retry: quick, counters: counters)
            _ = try t.validAccessToken(oauthAccountID: s.oauthID, actor: actor)
            #expect(counters.all.isEmpty)
            clock.advance(3600)
            _ = try t.validAccessToken(oauthAccountID: s.oauthID, actor: actor)
            clock.advance(3600)
            s.fake.failNextTokenCalls([.status(503, retryAfter: nil), .status(503, retryAfter: nil)])
            #expect(throws: OAuthError.self) { try t.validAccessToken(oauthAccountID: s.oauthID, actor: actor) }
            s.fake.revoke(accountID: "acct-1")
            #expect(throws: OAuthError.self) { try t.validAccessToken(oauthAccountID: s.oauthID, actor: actor) }
            #expect(counters.all == ["refresh google ok", "refresh google unavailable", "refresh google revoked"])
        }
    }

    @Test("tokens are sealed at rest; a fresh token is used as it is; one near expiry is refreshed")
    func refreshWhenNearExpiry() throws {
        let clock = ManualClock(Int64(Date().timeIntervalSince1970))
        try withSetup(clock) { s in
            let db = try s.location.open()
            let sealed = try #require(try db.scalar("SELECT access_token_sealed FROM oauth_accounts", as: [UInt8]?.self) ?? nil)
            #expect(!String(decoding: sealed, as: UTF8.self).contains("access-"))
            let t = try tokens(s, clock)
            let first = try t.validAccessToken(oauthAccountID: s.oauthID, actor: actor)
            #expect(s.fake.refreshCalls == 0)
            clock.advance(3600 - 299)  // less than five minutes left
            let second = try t.validAccessToken(oauthAccountID: s.oauthID, actor: actor)
            #expect(second != first && s.fake.refreshCalls == 1)
            #expect(try db.scalar("SELECT last_accessed_at FROM storage_accounts", as: Int64?.self) != nil)
        }
    }

    @Test("20 parallel requests for an expiring token on separate connections make exactly one refresh call")
    func oneRefreshAtATime() throws {
        let clock = ManualClock(Int64(Date().timeIntervalSince1970))
        try withSetup(clock) { s in
            clock.advance(3600)
            let results = Mutex<[String]>([])
            let failures = Mutex<[String]>([])
            DispatchQueue.concurrentPerform(iterations: 20) { i in
                do {
                    let token = try tokens(s, clock).validAccessToken(oauthAccountID: s.oauthID, actor: actor)
                    results.withLock { $0.append(token) }
                } catch {
                    failures.withLock { $0.append("\(error)") }
                }
            }
            #expect(failures.withLock { $0 }.isEmpty)
            #expect(s.fake.refreshCalls == 1)
            #expect(Set(results.withLock { $0 }).count == 1, "everyone got the one refreshed token")
        }
    }

    @Test("a revoked grant disconnects the storage account and deactivates its portal; reconnecting brings it back")
    func revocation() throws {
        let clock = ManualClock(Int64(Date().timeIntervalSince1970))
        try withSetup(clock) { s in
            let db = try s.location.open()
            s.fake.revoke(accountID: "acct-1")
            clock.advance(3600)
            #expect(throws: OAuthError.revoked("invalid_grant")) { try tokens(s, clock).validAccessToken(oauthAccountID: s.oauthID, actor: actor) }
            let account = try #require(try StorageAccountStore(db: db, clock: clock).find(id: s.storageID))
            #expect(account.status == .disconnected && account.lastError == "refresh refused: invalid_grant")
            #expect(try db.scalar("SELECT active FROM portals", as: Int.self) == 0)
            #expect(try db.scalar("SELECT count(*) FROM audit_log WHERE action = 'storage_account.status'", as: Int.self) == 1)
            let again = try StorageAccountStore(db: db, clock: clock).createOrGet(
                userID: s.userID, provider: .googleDrive, providerAccountID: "acct-1", email: nil, displayName: "Drive", reconnected: true, by: actor)
            #expect(again.reactivated && again.account.status == .active)
            #expect(try db.scalar("SELECT active FROM portals", as: Int.self) == 1)
        }
    }

    @Test("a provider that keeps failing puts the account in ERROR with the reason; the next success restores it")
    func temporaryFailure() throws {
        let clock = ManualClock(Int64(Date().timeIntervalSince1970))
        try withSetup(clock) { s in
            let db = try s.location.open()
            var quick = RetryPolicy()
            quick.maxAttempts = 2
            quick.baseDelaySeconds = 0.01
            s.fake.failNextTokenCalls([.status(503, retryAfter: nil), .status(503, retryAfter: nil)])
            clock.advance(3600)
            #expect(throws: OAuthError.self) { try tokens(s, clock, retry: quick).validAccessToken(oauthAccountID: s.oauthID, actor: actor) }
            let failed = try #require(try StorageAccountStore(db: db, clock: clock).find(id: s.storageID))
            #expect(failed.status == .error && failed.lastError?.contains("refresh failed") == true)
            #expect(try db.scalar("SELECT inactive_reason FROM portals", as: String.self) == "storage_error")
            _ = try tokens(s, clock, retry: quick).validAccessToken(oauthAccountID: s.oauthID, actor: actor)
            #expect(try StorageAccountStore(db: db, clock: clock).find(id: s.storageID)?.status == .active)
            #expect(try db.scalar("SELECT active FROM portals", as: Int.self) == 1)
        }
    }

    @Test("a rotated refresh token is stored and used next time")
    func rotation() throws {
        let clock = ManualClock(Int64(Date().timeIntervalSince1970))
        try withSetup(clock) { s in
            s.fake.rotateRefreshTokens(true)
            let t = try tokens(s, clock)
            clock.advance(3600)
            _ = try t.validAccessToken(oauthAccountID: s.oauthID, actor: actor)
            clock.advance(3600)
            _ = try t.validAccessToken(oauthAccountID: s.oauthID, actor: actor)  // would be invalid_grant with the old token
            #expect(s.fake.refreshCalls == 2)
        }
    }
}
