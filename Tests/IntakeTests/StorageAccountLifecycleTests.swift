import Curl
import Database
import Foundation
import Integrations
@testable import Intake
import Testing
import TestSupport

/// Issue 12, items 7 and 8, in the domain against the fake Google: coming back from DISCONNECTED
/// or ERROR only when a token refresh succeeds, and Disconnect revoking the grant at the provider.
@Suite("Storage account lifecycle: reactivate, check again, disconnect", .serialized)
struct StorageAccountLifecycleTests {
    let base = AccessTokenTests()
    let actor = AuditLog.Actor(userID: nil, remoteAddress: "test")

    /// Retries without waiting, so a provider that stays down fails at once.
    var quick: RetryPolicy {
        var p = RetryPolicy()
        p.maxAttempts = 2
        p.baseDelaySeconds = 0.001
        return p
    }

    /// The status changes reported, in order (heard on the test's own thread).
    final class Heard {
        var changes: [StorageAccountStatusChange] = []
    }

    /// The setup of `AccessTokenTests`, its tokens, a manager and the status changes heard.
    func withAccount(_ body: (AccessTokenTests.Setup, ManualClock, AccessTokens, StorageAccountManager, Heard, any Database) throws -> Void) throws {
        let clock = ManualClock(Int64(Date().timeIntervalSince1970))
        try base.withSetup(clock) { s in
            let heard = Heard()
            let listen: (StorageAccountStatusChange) -> Void = { change in heard.changes.append(change) }
            let db = try s.location.open()
            let tokens = try base.tokens(s, clock, retry: quick, onStatusChange: listen)
            let manager = StorageAccountManager(db: db, clock: clock, onStatusChange: listen)
            try body(s, clock, tokens, manager, heard, db)
        }
    }

    func account(_ db: Database, _ s: AccessTokenTests.Setup) throws -> StorageAccount {
        try #require(try StorageAccountStore(db: db, clock: ManualClock()).find(id: s.storageID))
    }

    /// The provider refuses the next refresh: the account becomes DISCONNECTED, its tokens kept.
    func refuseOnce(_ s: AccessTokenTests.Setup, _ clock: ManualClock, _ tokens: AccessTokens) {
        s.fake.failNextTokenCalls([.oauthError(400, "invalid_grant")])
        clock.advance(3600)
        #expect(throws: OAuthError.revoked("invalid_grant")) { try tokens.validAccessToken(oauthAccountID: s.oauthID, actor: actor) }
    }

    @Test("Reactivate on a DISCONNECTED account asks the provider: refused, it stays (nothing changed); a working refresh brings it and its portal back")
    func reactivateAsksTheProvider() throws {
        try withAccount { s, clock, tokens, manager, heard, db in
            refuseOnce(s, clock, tokens)
            #expect(try account(db, s).status == .disconnected)
            #expect(try db.scalar("SELECT active FROM portals", as: Int.self) == 0)

            s.fake.failNextTokenCalls([.oauthError(400, "invalid_grant")])
            let calls = s.fake.tokenCalls
            let refused = try manager.reactivate(try account(db, s), tokens: tokens, by: actor)
            #expect(refused == .reconnectRequired("the provider refused access (invalid_grant)"))
            #expect(s.fake.tokenCalls == calls + 1)
            #expect(try account(db, s).status == .disconnected && (try db.scalar("SELECT active FROM portals", as: Int.self)) == 0)

            let back = try manager.reactivate(try account(db, s), tokens: tokens, by: actor)
            #expect(back == .reactivated(PortalManagementResult(from: .disconnected, to: .active, deactivatedPortals: 0, reactivatedPortals: 1)))
            #expect(try account(db, s).status == .active && (try db.scalar("SELECT active FROM portals", as: Int.self)) == 1)
            #expect(heard.changes.map { "\($0.result.from.rawValue)→\($0.result.to.rawValue) \($0.event.rawValue)" }
                        == ["ACTIVE→DISCONNECTED accessRevoked", "DISCONNECTED→ACTIVE providerReachable"])
        }
    }

    @Test("the table refuses ownerReactivates from DISCONNECTED: no silent way around the provider")
    func noSilentRevival() throws {
        try withAccount { s, clock, tokens, _, _, db throws in
            refuseOnce(s, clock, tokens)
            #expect(throws: StorageAccountTransitions.Refused(from: .disconnected, event: .ownerReactivates)) {
                try StorageAccountStore(db: db, clock: clock).handleStatusChange(accountID: s.storageID, event: .ownerReactivates, reason: nil, by: actor)
            }
            #expect(try account(db, s).status == .disconnected)
        }
    }

    @Test("fix storage (ensureStorageAccounts) revives a DISCONNECTED account only when a refresh works; otherwise it says to reconnect")
    func ensureAsksTheProvider() throws {
        try withAccount { s, clock, tokens, manager, _, db in
            refuseOnce(s, clock, tokens)
            let blind = try manager.ensureStorageAccounts(userID: s.userID, forceCreate: true, respectDisconnected: false, by: actor)
            #expect(blind.reactivated == 0 && blind.errors == ["Drive is disconnected; reconnect it"])
            s.fake.failNextTokenCalls([.oauthError(400, "invalid_grant")])
            let refused = try manager.ensureStorageAccounts(userID: s.userID, forceCreate: true, respectDisconnected: false, tokens: tokens, by: actor)
            #expect(refused.reactivated == 0 && refused.errors == ["Drive is disconnected: the provider refused access (invalid_grant); reconnect it"])
            #expect(try account(db, s).status == .disconnected)
            let kept = try manager.ensureStorageAccounts(userID: s.userID, forceCreate: true, respectDisconnected: true, tokens: tokens, by: actor)
            #expect(kept == StorageAccountManager.Summary(created: 0, reactivated: 0, validated: 1, errors: []))
            let fixed = try manager.ensureStorageAccounts(userID: s.userID, forceCreate: true, respectDisconnected: false, tokens: tokens, by: actor)
            #expect(fixed == StorageAccountManager.Summary(created: 0, reactivated: 1, validated: 0, errors: []))
            #expect(try account(db, s).status == .active && (try db.scalar("SELECT active FROM portals", as: Int.self)) == 1)
        }
    }

    @Test("Check again on an account in ERROR: still down, it stays so and says why; once the provider answers, ACTIVE with its portal")
    func checkAgain() throws {
        try withAccount { s, clock, tokens, manager, _, db in
            s.fake.failNextTokenCalls([.status(503, retryAfter: nil), .status(503, retryAfter: nil)])
            clock.advance(3600)
            #expect(throws: OAuthError.self) { try tokens.validAccessToken(oauthAccountID: s.oauthID, actor: actor) }
            #expect(try account(db, s).status == .error)
            #expect(try manager.connections(userID: s.userID).map(\.grant) == [.unchecked])
            s.fake.failNextTokenCalls([.status(503, retryAfter: nil), .status(503, retryAfter: nil)])
            let down = try manager.reactivate(try account(db, s), tokens: tokens, by: actor)
            #expect(down == .providerUnavailable("the provider could not be reached (temporarily_unavailable)"))
            #expect(try account(db, s).status == .error)
            let back = try manager.reactivate(try account(db, s), tokens: tokens, by: actor)
            #expect(back == .reactivated(PortalManagementResult(from: .error, to: .active, deactivatedPortals: 0, reactivatedPortals: 1)))
            #expect(try manager.connections(userID: s.userID).map(\.grant) == [.valid])
        }
    }

    @Test("Disconnect revokes the refresh token at the provider, forgets both tokens, DISCONNECTED with its portal off; heard once")
    func disconnect() throws {
        try withAccount { s, _, tokens, manager, heard, db in
            let refresh = s.fake.liveRefreshTokens(accountID: "acct-1")
            let done = try manager.disconnect(try account(db, s), tokens: tokens, by: actor)
            #expect(done.revocation == .revoked && done.result == PortalManagementResult(from: .active, to: .disconnected, deactivatedPortals: 1, reactivatedPortals: 0))
            #expect(s.fake.revocations.map { [$0.path, $0.token, $0.issuedAs] } == [["/revoke", refresh[0], "refresh"]])
            #expect(s.fake.liveRefreshTokens(accountID: "acct-1").isEmpty && s.fake.liveAccessTokens(accountID: "acct-1").isEmpty)
            #expect(try db.scalar("SELECT count(*) FROM oauth_accounts WHERE access_token_sealed IS NULL AND refresh_token_sealed IS NULL AND access_token_expires_at IS NULL", as: Int.self) == 1)
            #expect(try account(db, s).status == .disconnected && (try account(db, s).lastError) == "disconnected by its owner")
            #expect(try db.scalar("SELECT auto_deactivated FROM portals", as: Int.self) == 1)
            #expect(heard.changes.map(\.event) == [.ownerDisconnects])
            #expect(try manager.connections(userID: s.userID).map(\.grant) == [.none])

            // Nothing left to ask with: Reactivate says to reconnect without calling anyone.
            let calls = s.fake.tokenCalls
            #expect(try manager.reactivate(try account(db, s), tokens: tokens, by: actor) == .reconnectRequired("Intake no longer holds access to it"))
            #expect(s.fake.tokenCalls == calls && s.fake.revocations.count == 1)
        }
    }

    @Test("Disconnect while the provider is down: disconnected here all the same, the tokens forgotten, and the reason says the provider was not told")
    func disconnectProviderDown() throws {
        try withAccount { s, _, tokens, manager, _, db in
            s.fake.failNextRevokeCalls([.drop, .status(503, retryAfter: nil)])
            let done = try manager.disconnect(try account(db, s), tokens: tokens, by: actor)
            guard case .notTold(let why) = done.revocation else { Issue.record("\(done.revocation)"); return }
            #expect(why.contains("temporary failure") && !done.revocation.providerTold)
            #expect(s.fake.revocations.count == 2, "retried once under the policy")
            #expect(try account(db, s).status == .disconnected)
            #expect(try account(db, s).lastError?.hasPrefix("disconnected by its owner; the provider could not be told") == true)
            #expect(try db.scalar("SELECT count(*) FROM oauth_accounts WHERE refresh_token_sealed IS NULL", as: Int.self) == 1)
            #expect(!s.fake.liveRefreshTokens(accountID: "acct-1").isEmpty, "the grant still lives at the provider, as the owner is told")
        }
    }

    @Test("a refused grant is shown as refused, not valid; Pause keeps it valid")
    func grantStates() throws {
        try withAccount { s, clock, tokens, manager, _, db in
            #expect(try manager.connections(userID: s.userID).map(\.grant) == [.valid])
            try StorageAccountStore(db: db, clock: clock).handleStatusChange(accountID: s.storageID, event: .ownerDeactivates, reason: nil, by: actor)
            #expect(try manager.connections(userID: s.userID).map(\.grant) == [.valid])
            refuseOnce(s, clock, tokens)
            #expect(try manager.connections(userID: s.userID).map(\.grant) == [.refused])
        }
    }
}
