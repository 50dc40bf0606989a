import Integrations
import Intake
import Web

/// `POST /dashboard/settings/connect`: starts the OAuth flow for `provider` (Connect, and
/// Reconnect on an account that is disconnected or in error).
enum StorageConnect {
    static func handle(_ context: RequestContext) throws -> Response {
        let services = context.services
        guard let kind = OAuthProvider.Kind(rawValue: context.formFields["provider"] ?? ""), let provider = services.configuration.oauthProviders[kind] else {
            throw HTTPError.badRequest("Choose Google Drive or Dropbox.")
        }
        guard provider.isConfigured else {
            context.flash(.error, "\(StorageProviderKind(kind).displayName) is not configured on this server.")
            return .redirect(to: "/dashboard/settings")
        }
        let (state, pkce) = try services.stores.oauthStates
            .begin(sessionID: context.session!.id, provider: kind)
        let url = OAuthClient(provider: provider).authorizationURL(state: state, pkce: pkce, redirectURI: context.oauthRedirectURI(for: kind))
        return .redirect(to: url)
    }
}
