import Integrations
import Intake
import Web

/// `POST /dashboard/settings/accounts/:id/deactivate` with `action`: `pause` (Pause uploads:
/// INACTIVE, files stay reachable; the default) or `disconnect` (the grant revoked at the
/// provider and its tokens dropped: DISCONNECTED).
enum StorageAccountDeactivate {
    static func handle(_ context: RequestContext) throws -> Response {
        let services = context.services
        let account = try context.ownedStorageAccount()
        do {
            switch context.formFields["action"] ?? "pause" {
            case "pause":
                let result = try services.stores.storageAccounts.handleStatusChange(accountID: account.id, event: .ownerDeactivates,
                                                                             reason: "paused by its owner", by: context.actor)
                context.flash(.success, "Uploads to \(account.displayName) paused; \(Counted.text(result.deactivatedPortals, "portal")) stopped taking uploads. Its files can still be downloaded.")
            case "disconnect":
                let done = try services.stores.storageAccountManager.disconnect(account, tokens: try services.accessTokens(), by: context.actor)
                let message = StorageAccountMessages.disconnect(context, account, done.result, done.revocation)
                context.flash(done.revocation.providerTold ? .success : .error, message)
            default:
                throw HTTPError.badRequest("Choose pause or disconnect.")
            }
        } catch let refused as StorageAccountTransitions.Refused {
            context.flash(.error, "This cannot be done now: \(refused).")
        } catch let error as OAuthError {
            // Only when the account's refresh lease could not be had: nothing was changed.
            context.flash(.error, "\(account.displayName) was not disconnected: \(error). Nothing was changed; try again.")
        }
        return .redirect(to: "/dashboard/settings")
    }
}
