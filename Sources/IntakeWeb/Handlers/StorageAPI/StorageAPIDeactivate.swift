import Integrations
import Intake
import Web

/// `POST /api/storage/deactivate` `{"provider":"google_drive"}` (or `"storageAccountId"`), with
/// `"action"`: `"pause"` (the default; INACTIVE, files stay reachable) or `"disconnect"` (the
/// grant revoked at the provider and its tokens dropped: DISCONNECTED; `providerRevoked` says
/// whether the provider could be told).
enum StorageAPIDeactivate {
    static func handle(_ context: RequestContext) throws -> Response {
        let services = context.services
        let body = try JSONBody.object(context)
        let account = try context.ownedStorageAccount(namedIn: body)
        switch body["action"] as? String ?? "pause" {
        case "pause":
            let result = try services.stores.storageAccounts.handleStatusChange(accountID: account.id, event: .ownerDeactivates,
                                                                                 reason: "paused by its owner", by: context.actor)
            return .json(["message": "Storage account deactivated successfully", "deactivatedPortals": .int(Int64(result.deactivatedPortals))])
        case "disconnect":
            let done: (result: PortalManagementResult, revocation: AccessTokens.Revocation)
            do {
                done = try services.stores.storageAccountManager.disconnect(account, tokens: try services.accessTokens(), by: context.actor)
            } catch let error as OAuthError {
                // Only when the account's refresh lease could not be had: nothing was changed.
                throw HTTPError(.serviceUnavailable, code: "busy", "\(account.displayName) was not disconnected: \(error). Nothing was changed; try again.")
            }
            let message = StorageAccountMessages.disconnect(context, account, done.result, done.revocation)
            return .json(["message": .string(done.revocation.providerTold ? "Storage account disconnected successfully" : message),
                          "deactivatedPortals": .int(Int64(done.result.deactivatedPortals)),
                          "providerRevoked": .bool(done.revocation.providerTold)])
        default:
            throw HTTPError.badRequest("action must be pause or disconnect.", code: "invalid_action")
        }
    }
}
