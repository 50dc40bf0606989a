import Curl
import Foundation

/// The OAuth 2 authorization-code flow with PKCE, token refresh and the identity call, over an
/// `HTTPTransport` (libcurl in production). Token values never reach a log: errors carry the
/// provider's error code only.
public struct OAuthClient {
    public let provider: OAuthProvider
    let retry: RetryPolicy
    let sleep: @Sendable (Double) -> Void

    public init(provider: OAuthProvider, retry: RetryPolicy = RetryPolicy(),
                sleep: @escaping @Sendable (Double) -> Void = { Thread.sleep(forTimeInterval: $0) }) {
        self.provider = provider
        self.retry = retry
        self.sleep = sleep
    }

    /// Where to send the browser: the provider's consent page for this state and PKCE challenge.
    public func authorizationURL(state: String, pkce: PKCE, redirectURI: String) -> String {
        var parameters: [(String, String)] = [
            ("client_id", provider.clientID), ("redirect_uri", redirectURI), ("response_type", "code"),
            ("state", state), ("code_challenge", pkce.challenge), ("code_challenge_method", "S256"),
        ]
        parameters.append(("scope", provider.scopes.joined(separator: " ")))
        parameters += provider.extraParameters
        let separator = provider.authorizationURL.contains("?") ? "&" : "?"
        return provider.authorizationURL + separator + parameters.map { "\($0.0)=\(FormEncoding.encode($0.1))" }.joined(separator: "&")
    }

    /// Exchanges an authorization code (with its PKCE verifier) for tokens.
    public func exchange(code: String, pkce: PKCE, redirectURI: String, client: any HTTPTransport) throws -> TokenGrant {
        try token(client, [("grant_type", "authorization_code"), ("code", code), ("redirect_uri", redirectURI),
                           ("code_verifier", pkce.verifier)])
    }

    /// A new access token from a refresh token.
    public func refresh(refreshToken: String, client: any HTTPTransport) throws -> TokenGrant {
        try token(client, [("grant_type", "refresh_token"), ("refresh_token", refreshToken)])
    }

    /// Who the access token belongs to: Google's userinfo, or Dropbox's get_current_account.
    public func identity(accessToken: String, client: any HTTPTransport) throws -> ProviderIdentity {
        let request: HTTPRequest
        switch provider.kind {
        case .google:
            request = HTTPRequest(url: provider.identityURL, headers: [("Authorization", "Bearer \(accessToken)")])
        case .dropbox:
            // Dropbox RPC endpoints take POST with no body (and then no Content-Type).
            request = HTTPRequest(method: "POST", url: provider.identityURL + "/users/get_current_account",
                                  headers: [("Authorization", "Bearer \(accessToken)")])
        }
        let response = try send(request, client)
        guard response.status == 200, let json = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any] else {
            throw classify(response)
        }
        switch provider.kind {
        case .google:
            guard let sub = json["sub"] as? String else { throw OAuthError.refused(status: 200, error: "userinfo without sub") }
            return ProviderIdentity(accountID: sub, email: json["email"] as? String, name: json["name"] as? String)
        case .dropbox:
            guard let id = json["account_id"] as? String else { throw OAuthError.refused(status: 200, error: "account without account_id") }
            let name = (json["name"] as? [String: Any])?["display_name"] as? String
            return ProviderIdentity(accountID: id, email: json["email"] as? String, name: name)
        }
    }

    /// Revokes the grant behind `token` at the provider, so Intake's access ends there too.
    /// Google (RFC 7009 style, https://developers.google.com/identity/protocols/oauth2/web-server#tokenrevoke):
    /// `POST` the access or refresh token as the `token` form field; revoking a refresh token
    /// revokes the whole grant. Dropbox (`auth/token/revoke`): the access token as bearer and no
    /// body; it disables that token, its refresh token and every token issued from it.
    /// Throws `.revoked` when the provider says the token is already invalid (the grant is gone
    /// anyway), `.temporary` when it cannot be reached, `.refused` otherwise.
    public func revoke(token: String, client: any HTTPTransport) throws {
        guard !provider.revocationURL.isEmpty else { throw OAuthError.refused(status: 0, error: "no revocation endpoint configured") }
        let request: HTTPRequest
        switch provider.kind {
        case .google:
            request = HTTPRequest.form(url: provider.revocationURL, [("token", token)])
        case .dropbox:
            request = HTTPRequest(method: "POST", url: provider.revocationURL, headers: [("Authorization", "Bearer \(token)")])
        }
        let response = try send(request, client)
        guard response.status == 200 else { throw classify(response) }
    }

    private func token(_ client: any HTTPTransport, _ fields: [(String, String)]) throws -> TokenGrant {
        let request = HTTPRequest.form(url: provider.tokenURL,
                                       fields + [("client_id", provider.clientID), ("client_secret", provider.clientSecret)],
                                       headers: [("Accept", "application/json")])
        let response = try send(request, client)
        guard response.status == 200 else { throw classify(response) }
        guard let json = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any],
              let access = json["access_token"] as? String else {
            throw OAuthError.refused(status: 200, error: "token response without access_token")
        }
        let expires = (json["expires_in"] as? NSNumber)?.int64Value ?? 3600
        return TokenGrant(accessToken: access, refreshToken: json["refresh_token"] as? String, expiresIn: expires,
                          scope: json["scope"] as? String)
    }

    private func send(_ request: HTTPRequest, _ client: any HTTPTransport) throws -> HTTPResponse {
        do {
            return try client.send(request, retry: retry, sleep: sleep)
        } catch let error as CurlError {
            throw OAuthError.temporary("network: curl code \(error.code)")
        }
    }

    /// RFC 6749 §5.2 error bodies: `invalid_grant` means the grant is gone; 5xx and 429 are
    /// temporary; 401 from an API call means the token was revoked — but `invalid_client` and
    /// `unauthorized_client` (a wrong client id or secret on this server) say nothing about the
    /// owner's grant, and must never disconnect every account of the provider.
    private func classify(_ response: HTTPResponse) -> OAuthError {
        let json = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any]
        let code = (json?["error"] as? String) ?? ((json?["error"] as? [String: Any])?[".tag"] as? String) ?? "http_\(response.status)"
        if response.status >= 500 || response.status == 429 { return .temporary(code) }
        if code == "invalid_client" || code == "unauthorized_client" { return .refused(status: response.status, error: code) }
        if code == "invalid_grant" || code == "invalid_token" || code == "expired_access_token" || response.status == 401 {
            return .revoked(code)
        }
        return .refused(status: response.status, error: code)
    }
}
