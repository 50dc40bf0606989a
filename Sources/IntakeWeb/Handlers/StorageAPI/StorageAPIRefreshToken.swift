import Integrations
import Intake
import Web

/// `POST /api/storage/refresh-token` `{"provider":"google"}` (or `"storageAccountId"`): a valid
/// access token for the account, refreshed when it expires within five minutes (the token itself
/// is never sent). With several accounts of the provider, a 409 lists them to choose from.
enum StorageAPIRefreshToken {
    static func handle(_ context: RequestContext) throws -> Response {
        let services = context.services
        let body = try JSONBody.object(context)
        let connections = try context.stores.storageAccountManager.connections(userID: context.user!.id)
        let id: Int64, kind: OAuthProvider.Kind
        if body["storageAccountId"] != nil {
            let account = try context.ownedStorageAccount(namedIn: body)
            guard let connection = connections.first(where: { $0.storageAccountID == account.id }) else {
                throw HTTPError(.notFound, code: "not_connected", "Storage account \(account.id) has no provider access to refresh.")
            }
            (id, kind) = (connection.oauthAccountID, connection.provider)
        } else {
            guard let provider = body["provider"] as? String, let named = StorageProviderKind(named: provider)?.oauth else {
                throw HTTPError.badRequest("provider must be google or dropbox (or send storageAccountId).", code: "invalid_provider")
            }
            let matching = connections.filter { $0.provider == named }
            guard let only = matching.first else { throw HTTPError(.notFound, code: "not_connected", "No \(named.rawValue) account is connected.") }
            if matching.count > 1 {
                let accounts = try context.ownStorageAccounts().filter { a in matching.contains { $0.storageAccountID == a.id } }
                throw StorageAccountCandidates.ambiguous(accounts, provider: named.rawValue)
            }
            (id, kind) = (only.oauthAccountID, named)
        }
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
