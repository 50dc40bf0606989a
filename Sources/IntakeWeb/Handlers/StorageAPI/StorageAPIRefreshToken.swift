import Integrations
import Intake
import Web

/// `POST /api/storage/refresh-token` `{"provider":"google"}`: a valid access token for the
/// account, refreshed when it expires within five minutes (the token itself is never sent).
enum StorageAPIRefreshToken {
    static func handle(_ context: RequestContext) throws -> Response {
        let services = context.services
        let body = try JSONBody.object(context)
        guard let provider = body["provider"] as? String, let kind = StorageProviderKind(named: provider)?.oauth else {
            throw HTTPError.badRequest("provider must be google or dropbox.", code: "invalid_provider")
        }
        let ids = try context.stores.oauthAccounts.ids(userID: context.user!.id, provider: kind)
        guard let id = ids.first else { throw HTTPError(.notFound, code: "not_connected", "No \(kind.rawValue) account is connected.") }
        do {
            _ = try services.accessTokens().validAccessToken(oauthAccountID: id, actor: context.actor)
        } catch let error as OAuthError {
            switch error {
            case .revoked: throw HTTPError(.conflict, code: "storage_disconnected", "Access was revoked; the account is now disconnected. Reconnect it.")
            case .temporary: throw HTTPError(.serviceUnavailable, code: "provider_unavailable", "The provider cannot be reached; try again shortly.")
            case .refused: throw HTTPError(HTTPStatus(502, "Bad Gateway"), code: "provider_refused", "The provider refused the refresh.")
            }
        }
        let expires = try context.stores.oauthAccounts.accessTokenExpiry(id: id) ?? 0
        return .json(["success": true, "provider": .string(kind.rawValue), "expiresAt": .int(expires)])
    }
}
