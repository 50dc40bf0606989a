import Intake
import Web

/// `POST /api/storage/reactivate`: a paused account at once; a DISCONNECTED or ERROR one only
/// if a token refresh succeeds now (409 `reconnect_required` when the provider refuses or no
/// grant is held, 503 `provider_unavailable` when it cannot be reached; nothing changes).
enum StorageAPIReactivate {
    static func handle(_ context: RequestContext) throws -> Response {
        let services = context.services
        let account = try context.ownedStorageAccount(namedIn: try JSONBody.object(context))
        let outcome = try services.stores.storageAccountManager.reactivate(account, tokens: try services.accessTokens(), by: context.actor)
        switch outcome {
        case .reactivated(let result):
            return .json(["message": "Storage account reactivated successfully", "reactivatedPortals": .int(Int64(result.reactivatedPortals))])
        case .reconnectRequired(let why):
            throw HTTPError(.conflict, code: "reconnect_required", StorageAccountMessages.reconnect(account, why))
        case .providerUnavailable(let why):
            throw HTTPError(.serviceUnavailable, code: "provider_unavailable",
                            "\(account.displayName) was not reactivated: \(why). Nothing was changed; try again shortly.")
        }
    }
}
