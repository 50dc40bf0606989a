import Curl
import Foundation
import Integrations
import Testing
import TestSupport

@Suite("OAuth client against fake Google and Dropbox")
struct OAuthClientTests {
    static let kinds: [FakeOAuthServer.Kind] = [.google, .dropbox]

    func client(for fake: FakeOAuthServer) -> OAuthClient {
        let provider: OAuthProvider = fake.kind == .google
            ? .google(clientID: fake.clientID, clientSecret: fake.clientSecret, authorizationURL: fake.authorizationURL,
                      tokenURL: fake.tokenURL, userinfoURL: fake.identityURL)
            : .dropbox(appKey: fake.clientID, appSecret: fake.clientSecret, authorizationURL: fake.authorizationURL,
                       tokenURL: fake.tokenURL, apiURL: fake.identityURL)
        return OAuthClient(provider: provider, sleep: { _ in })
    }

    /// Follows the authorization URL the way a browser would, up to the redirect back.
    /// Consent at the fake and the code exchanged: the client, a libcurl handle and the grant.
    func granted(_ fake: FakeOAuthServer) throws -> (OAuthClient, CurlClient, TokenGrant) {
        let oauth = client(for: fake)
        let pkce = PKCE()
        let code = try #require(try consent(oauth.authorizationURL(state: "s", pkce: pkce, redirectURI: "http://x/cb"))["code"])
        let curl = try CurlClient()
        return (oauth, curl, try oauth.exchange(code: code, pkce: pkce, redirectURI: "http://x/cb", client: curl))
    }

    func consent(_ url: String) throws -> [String: String] {
        let response = try CurlClient().perform(HTTPRequest(url: url))
        #expect(response.status == 302)
        let location = try #require(response.header("location"))
        return Dictionary(uniqueKeysWithValues: URLComponents(string: location)!.queryItems!.map { ($0.name, $0.value ?? "") })
    }

    @Test("authorization code with PKCE S256, then the identity", arguments: kinds)
    func codeFlow(kind: FakeOAuthServer.Kind) throws {
        let fake = try FakeOAuthServer(kind: kind)
        defer { fake.stop() }
        let oauth = client(for: fake)
        let pkce = PKCE()
        let url = oauth.authorizationURL(state: "st-1", pkce: pkce, redirectURI: "http://127.0.0.1:9/oauth/cb")
        #expect(url.contains("code_challenge_method=S256") && !url.contains(pkce.verifier))
        #expect(url.contains(kind == .google ? "access_type=offline" : "token_access_type=offline"))
        if kind == .google { #expect(url.contains("prompt=select_account%20consent") && url.contains("drive.file")) }
        if kind == .dropbox { #expect(url.contains("force_reapprove=true")) }
        let callback = try consent(url)
        #expect(callback["state"] == "st-1")
        let curl = try CurlClient()
        let grant = try oauth.exchange(code: try #require(callback["code"]), pkce: pkce, redirectURI: "http://127.0.0.1:9/oauth/cb", client: curl)
        #expect(grant.refreshToken != nil && grant.expiresIn > 0)
        let identity = try oauth.identity(accessToken: grant.accessToken, client: curl)
        #expect(identity == ProviderIdentity(accountID: "acct-1", email: "owner@example.com", name: "Olive Owner"))
        // A code works once, and only with its verifier.
        #expect(throws: OAuthError.revoked("invalid_grant")) {
            try oauth.exchange(code: callback["code"]!, pkce: pkce, redirectURI: "http://127.0.0.1:9/oauth/cb", client: curl)
        }
        let other = try consent(oauth.authorizationURL(state: "st-2", pkce: pkce, redirectURI: "http://127.0.0.1:9/oauth/cb"))
        #expect(throws: OAuthError.revoked("invalid_grant")) {
            try oauth.exchange(code: other["code"]!, pkce: PKCE(), redirectURI: "http://127.0.0.1:9/oauth/cb", client: curl)
        }
    }

    @Test("refresh; a revoked refresh token is 'revoked'; 503 with Retry-After is retried; a lasting 500 is 'temporary'", arguments: kinds)
    func refresh(kind: FakeOAuthServer.Kind) throws {
        let fake = try FakeOAuthServer(kind: kind)
        defer { fake.stop() }
        let (oauth, curl, first) = try granted(fake)
        let refresh = try #require(first.refreshToken)

        let fresh = try oauth.refresh(refreshToken: refresh, client: curl)
        #expect(!fresh.accessToken.isEmpty)
        fake.failNextTokenCalls([.status(503, retryAfter: 1), .drop])
        #expect(try oauth.refresh(refreshToken: refresh, client: curl).accessToken != fresh.accessToken, "retried past a 503 and a dropped connection")
        fake.failNextTokenCalls(Array(repeating: .status(500, retryAfter: nil), count: 10))
        #expect(throws: OAuthError.temporary("temporarily_unavailable")) { try oauth.refresh(refreshToken: refresh, client: curl) }
        fake.failNextTokenCalls([])
        // A wrong client secret is the server's misconfiguration, not the owner's grant going away:
        // refused, never "revoked" (which would disconnect every account of the provider).
        fake.failNextTokenCalls([.oauthError(401, "invalid_client")])
        #expect(throws: OAuthError.refused(status: 401, error: "invalid_client")) { try oauth.refresh(refreshToken: refresh, client: curl) }
        fake.failNextTokenCalls([.oauthError(400, "unauthorized_client")])
        #expect(throws: OAuthError.refused(status: 400, error: "unauthorized_client")) { try oauth.refresh(refreshToken: refresh, client: curl) }
        fake.revoke(accountID: "acct-1")
        #expect(throws: OAuthError.revoked("invalid_grant")) { try oauth.refresh(refreshToken: refresh, client: curl) }
    }

    @Test("an expired access token is refused by the identity call as revoked-for-this-token", arguments: kinds)
    func expiredAccess(kind: FakeOAuthServer.Kind) throws {
        let fake = try FakeOAuthServer(kind: kind)
        defer { fake.stop() }
        let (oauth, curl, grant) = try granted(fake)
        fake.expireAccessTokens()
        #expect(throws: OAuthError.self) { try oauth.identity(accessToken: grant.accessToken, client: curl) }
    }

    @Test("denied consent comes back as an error in the redirect", arguments: kinds)
    func denied(kind: FakeOAuthServer.Kind) throws {
        let fake = try FakeOAuthServer(kind: kind)
        defer { fake.stop() }
        fake.denyConsent(true)
        let callback = try consent(client(for: fake).authorizationURL(state: "s9", pkce: PKCE(), redirectURI: "http://x/cb"))
        #expect(callback["error"] == "access_denied" && callback["state"] == "s9" && callback["code"] == nil)
    }

    @Test("PKCE: the challenge is base64url(SHA-256(verifier)) — RFC 7636 appendix B")
    func pkceVector() {
        #expect(PKCE.challenge(for: "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
        #expect(PKCE().verifier.count == 43)
    }
}
