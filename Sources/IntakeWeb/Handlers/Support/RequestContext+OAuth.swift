import Integrations
import Intake

extension RequestContext {
    /// Where a provider sends the browser back after consent: the same address in the
    /// authorization request and in the code exchange, as OAuth 2 requires (RFC 6749 §4.1.3).
    func oauthRedirectURI(for kind: OAuthProvider.Kind) -> String {
        services.configuration.baseURL + "/oauth/\(kind.rawValue)/callback"
    }
}
