import Integrations
import Intake
import Web

/// `GET /oauth/:provider/callback`: the provider sends the browser back here. Denied consent, a
/// forged, reused or expired state, or a failed code exchange show a clear page and change nothing.
enum OAuthCallback {
    static func handle(_ context: RequestContext) throws -> Response {
        let services = context.services
        guard let kind = OAuthProvider.Kind(rawValue: context.request.parameters["provider"] ?? ""),
              let provider = services.configuration.oauthProviders[kind], provider.isConfigured else {
            throw HTTPError(.notFound, code: "not_found", "There is no such provider.")
        }
        let name = StorageProviderKind(kind).displayName
        let query = try context.request.query()
        let states = services.stores.oauthStates
        if let error = query["error"] {
            _ = try states.finish(state: query["state"] ?? "", sessionID: context.session!.id, provider: kind)
            throw HTTPError(.badRequest, code: "oauth_denied",
                            error == "access_denied" ? "You did not allow Intake to use your \(name). Nothing was connected."
                                                     : "\(name) refused the connection (\(error.prefix(60))). Nothing was connected.")
        }
        guard let pkce = try states.finish(state: query["state"] ?? "", sessionID: context.session!.id, provider: kind) else {
            throw HTTPError(.badRequest, code: "oauth_state",
                            "This connection link has expired, was already used, or was not started from this browser. Nothing was connected; start again from the storage page.")
        }
        guard let code = query["code"], !code.isEmpty else {
            throw HTTPError.badRequest("\(name) sent no authorization code. Nothing was connected.")
        }
        let oauth = OAuthClient(provider: provider)
        let curl = try services.curl()
        let grant: TokenGrant
        let identity: ProviderIdentity
        do {
            grant = try oauth.exchange(code: code, pkce: pkce, redirectURI: context.oauthRedirectURI(for: kind), client: curl)
            identity = try oauth.identity(accessToken: grant.accessToken, client: curl)
        } catch let error as OAuthError {
            services.logger.warning("oauth exchange failed", metadata: ["request_id": "\(context.request.id)", "error": "\(error)"])
            throw HTTPError(HTTPStatus(502, "Bad Gateway"), code: "oauth_exchange",
                            "\(name) did not complete the connection. Nothing was connected; please try again.")
        }
        let user = context.user!
        let named = name + (identity.email.map { " (\($0))" } ?? "")
        // The owner has just been through the OAuth flow: a disconnected account (or one in error) comes back.
        let result = try context.stores.storageAccountManager.connect(
            userID: user.id, kind: kind, displayName: named, identity: identity, grant: grant,
            scopes: grant.scope ?? provider.scopes.joined(separator: " "), tokens: try services.accessTokens(), by: context.actor)
        context.flash(.success, result.created ? "\(named) connected." : result.reactivated ? "\(named) reconnected; its portals accept uploads again." : "\(named) is connected.")
        return .redirect(to: "/dashboard/settings")
    }
}
