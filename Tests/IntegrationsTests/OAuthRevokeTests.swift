import Curl
import Foundation
import Integrations
import Testing
import TestSupport

@Suite("OAuth revocation against fake Google and Dropbox")
struct OAuthRevokeTests {
    func client(for fake: FakeOAuthServer) -> OAuthClient {
        let provider: OAuthProvider = fake.kind == .google
            ? .google(clientID: fake.clientID, clientSecret: fake.clientSecret, authorizationURL: fake.authorizationURL,
                      tokenURL: fake.tokenURL, userinfoURL: fake.identityURL, revocationURL: fake.revocationURL)
            : .dropbox(appKey: fake.clientID, appSecret: fake.clientSecret, authorizationURL: fake.authorizationURL,
                       tokenURL: fake.tokenURL, apiURL: fake.identityURL)
        return OAuthClient(provider: provider, sleep: { _ in })
    }

    func granted(_ fake: FakeOAuthServer) throws -> (OAuthClient, CurlClient, TokenGrant) {
        let oauth = client(for: fake)
        let pkce = PKCE()
        let code = try #require(try OAuthClientTests().consent(oauth.authorizationURL(state: "s", pkce: pkce, redirectURI: "http://x/cb"))["code"])
        let curl = try CurlClient()
        return (oauth, curl, try oauth.exchange(code: code, pkce: pkce, redirectURI: "http://x/cb", client: curl))
    }

    @Test("Google: the refresh token as the only form field; the grant is gone; a second revoke is 'revoked'")
    func google() throws {
        let fake = try FakeOAuthServer(kind: .google)
        defer { fake.stop() }
        let (oauth, curl, grant) = try granted(fake)
        let refresh = try #require(grant.refreshToken)
        try oauth.revoke(token: refresh, client: curl)
        let calls = fake.revocations
        #expect(calls.count == 1)
        if let r = calls.first {
            #expect(r.path == "/revoke" && r.token == refresh && r.issuedAs == "refresh" && r.accountID == "acct-1")
            #expect(r.contentType == "application/x-www-form-urlencoded" && r.formFields == ["token"] && r.bodyBytes == 6 + refresh.utf8.count)
        }
        #expect(throws: OAuthError.revoked("invalid_grant")) { try oauth.refresh(refreshToken: refresh, client: curl) }
        #expect(throws: OAuthError.revoked("invalid_token")) { try oauth.revoke(token: refresh, client: curl) }
    }

    @Test("Dropbox: the access token as bearer and no body; a second revoke is 'revoked'")
    func dropbox() throws {
        let fake = try FakeOAuthServer(kind: .dropbox)
        defer { fake.stop() }
        let (oauth, curl, grant) = try granted(fake)
        try oauth.revoke(token: grant.accessToken, client: curl)
        let calls = fake.revocations
        #expect(calls.count == 1 && calls.first?.path == "/2/auth/token/revoke" && calls.first?.token == grant.accessToken && calls.first?.bodyBytes == 0)
        #expect(throws: OAuthError.revoked("invalid_grant")) { try oauth.refresh(refreshToken: grant.refreshToken!, client: curl) }
        #expect(throws: OAuthError.revoked("invalid_access_token")) { try oauth.revoke(token: grant.accessToken, client: curl) }
    }

    @Test("a provider that stays down is 'temporary'; no endpoint configured is 'refused'")
    func failures() throws {
        let fake = try FakeOAuthServer(kind: .google)
        defer { fake.stop() }
        let (_, curl, grant) = try granted(fake)
        fake.failNextRevokeCalls(Array(repeating: .status(503, retryAfter: 0), count: 5))
        #expect(throws: OAuthError.temporary("temporarily_unavailable")) { try client(for: fake).revoke(token: grant.accessToken, client: curl) }
        let unconfigured = OAuthClient(provider: .google(clientID: "c", clientSecret: "s", authorizationURL: fake.authorizationURL,
                                                         tokenURL: fake.tokenURL, userinfoURL: fake.identityURL))
        #expect(throws: OAuthError.refused(status: 0, error: "no revocation endpoint configured")) { try unconfigured.revoke(token: "x", client: curl) }
    }
}
