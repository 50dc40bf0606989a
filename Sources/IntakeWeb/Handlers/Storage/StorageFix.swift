import Integrations
import Intake
import Web

/// `POST /dashboard/settings/fix`: storage accounts for OAuth accounts that lack one; a
/// disconnected account comes back only if its provider still honours the grant.
enum StorageFix {
    static func handle(_ context: RequestContext) throws -> Response {
        let services = context.services
        let summary = try services.stores.storageAccountManager.ensureStorageAccounts(
            userID: context.user!.id, respectDisconnected: false, tokens: try services.accessTokens(), by: context.actor)
        context.flash(summary.errors.isEmpty ? .success : .error,
                      "Storage checked: \(summary.created) created, \(summary.reactivated) reactivated, \(summary.validated) fine"
                          + (summary.errors.isEmpty ? "." : "; problems: \(summary.errors.joined(separator: "; "))"))
        return .redirect(to: "/dashboard/settings")
    }
}
