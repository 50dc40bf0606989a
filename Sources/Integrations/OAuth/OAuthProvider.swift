import Curl
import Sodium

/// One OAuth 2 provider as configured: its endpoints (injectable, so tests point them at
/// loopback fakes), the client credentials, and what the authorization request asks for.
public struct OAuthProvider: Sendable {
    public enum Kind: String, Sendable, CaseIterable { case google, dropbox }

    public let kind: Kind
    public let clientID: String
    public let clientSecret: String
    public let authorizationURL: String
    public let tokenURL: String
    /// Google's userinfo endpoint, or Dropbox's API base (`…/2`).
    public let identityURL: String
    /// Where a grant is revoked: Google's revocation endpoint, or Dropbox's `…/2/auth/token/revoke`.
    /// Empty: not configured, so a disconnect cannot tell the provider.
    public let revocationURL: String
    public let scopes: [String]
    /// Extra authorization parameters (`access_type=offline`, `token_access_type=offline`, …).
    public let extraParameters: [(String, String)]

    public init(kind: Kind, clientID: String, clientSecret: String, authorizationURL: String, tokenURL: String,
                identityURL: String, revocationURL: String = "", scopes: [String], extraParameters: [(String, String)]) {
        self.kind = kind
        self.clientID = clientID
        self.clientSecret = clientSecret
        self.authorizationURL = authorizationURL
        self.tokenURL = tokenURL
        self.identityURL = identityURL
        self.revocationURL = revocationURL
        self.scopes = scopes
        self.extraParameters = extraParameters
    }

    /// Google: sign-in scopes plus `drive.file`; offline access with a consent prompt so a
    /// refresh token is issued, and the account chooser first (`select_account`) so a second
    /// Google account is as easy to connect as the first. `revocationURL` is Google's `…/revoke` (empty: not configured).
    public static func google(clientID: String, clientSecret: String, authorizationURL: String, tokenURL: String, userinfoURL: String,
                              revocationURL: String = "") -> OAuthProvider {
        OAuthProvider(kind: .google, clientID: clientID, clientSecret: clientSecret, authorizationURL: authorizationURL, tokenURL: tokenURL,
                      identityURL: userinfoURL, revocationURL: revocationURL, scopes: ["openid", "email", "profile", "https://www.googleapis.com/auth/drive.file"],
                      extraParameters: [("access_type", "offline"), ("prompt", "select_account consent")])
    }

    /// Dropbox: offline access (a refresh token) and the scopes an upload portal needs, asking
    /// again each time (`force_reapprove`) so the owner can pick another Dropbox account. Tokens
    /// are revoked at the API's `auth/token/revoke`.
    public static func dropbox(appKey: String, appSecret: String, authorizationURL: String, tokenURL: String, apiURL: String) -> OAuthProvider {
        OAuthProvider(kind: .dropbox, clientID: appKey, clientSecret: appSecret, authorizationURL: authorizationURL, tokenURL: tokenURL,
                      identityURL: apiURL, revocationURL: apiURL + "/auth/token/revoke", scopes: ["account_info.read", "files.content.write", "files.content.read", "files.metadata.read"],
                      extraParameters: [("token_access_type", "offline"), ("force_reapprove", "true")])
    }

    /// Whether client credentials are set; without them the provider is shown as not configured.
    public var isConfigured: Bool { !clientID.isEmpty && !clientSecret.isEmpty }
}

/// PKCE (RFC 7636) with S256: a random verifier kept server-side, its SHA-256 sent as challenge.
public struct PKCE: Sendable, Equatable {
    public let verifier: String
    public var challenge: String { Self.challenge(for: verifier) }

    /// A fresh 43-character verifier from 32 random bytes.
    public init() { verifier = Digest.base64URL(Sodium.randomBytes(32)) }
    public init(verifier: String) { self.verifier = verifier }

    public static func challenge(for verifier: String) -> String {
        Digest.base64URL(Digest.sha256(Array(verifier.utf8)))
    }
}

/// Tokens from a token endpoint.
public struct TokenGrant: Sendable, Equatable {
    public let accessToken: String
    /// Present on the first grant, and when the provider rotates it.
    public let refreshToken: String?
    /// Seconds the access token lives.
    public let expiresIn: Int64
    public let scope: String?
}

/// An identity at the provider: the stable account id, e-mail and name.
public struct ProviderIdentity: Sendable, Equatable {
    public let accountID: String
    public let email: String?
    public let name: String?

    public init(accountID: String, email: String?, name: String?) {
        self.accountID = accountID
        self.email = email
        self.name = name
    }
}

/// Why an OAuth call failed, sorted by what the account state should become.
public enum OAuthError: Error, Equatable, CustomStringConvertible {
    /// `invalid_grant` and friends: the grant is gone for good (revoked, expired refresh token).
    case revoked(String)
    /// A network error or a 5xx: try again later.
    case temporary(String)
    /// Anything else the provider refused (a misconfigured client, a bad request).
    case refused(status: Int, error: String)

    public var description: String {
        switch self {
        case .revoked(let e): return "access revoked (\(e))"
        case .temporary(let e): return "temporary failure (\(e))"
        case .refused(let status, let e): return "refused with \(status) (\(e))"
        }
    }
}
