import Integrations
import Intake
import Web

/// `POST /dashboard/settings/accounts/:id/reactivate`: Reactivate a paused account, or — for a
/// DISCONNECTED account still holding its grant, and as Check again for one in ERROR — ask the
/// provider (a token refresh) and bring it back only if the provider answers yes.
enum StorageAccountReactivate {
    static func handle(_ context: RequestContext) throws -> Response {
        let services = context.services
        let account = try context.ownedStorageAccount()
        do {
            switch try services.stores.storageAccountManager.reactivate(account, tokens: try services.accessTokens(), by: context.actor) {
            case .reactivated(let result):
                context.flash(.success, "\(account.displayName) is active again; \(Counted.text(result.reactivatedPortals, "portal")) switched off with it take uploads again and its files can be downloaded.")
            case .reconnectRequired(let why):
                context.flash(.error, StorageAccountMessages.reconnect(account, why))
            case .providerUnavailable(let why):
                context.flash(.error, "\(account.displayName) was not reactivated: \(why). Nothing was changed; try Check again later.")
            }
        } catch let refused as StorageAccountTransitions.Refused {
            context.flash(.error, "This cannot be done now: \(refused).")
        }
        return .redirect(to: "/dashboard/settings")
    }
}
