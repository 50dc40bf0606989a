import Integrations
import Intake
import Web

/// `POST /dashboard/settings/sync`: asks each provider whether access still holds.
enum StorageSync {
    static func handle(_ context: RequestContext) throws -> Response {
        let services = context.services
        let result = try services.stores.storageAccountManager.syncOAuthStatus(
            userID: context.user!.id, tokens: try services.accessTokens(), providers: services.configuration.oauthProviders,
            http: try services.curl(), by: context.actor)
        if result.failures.isEmpty {
            context.flash(.success, "\(Counted.text(result.checked, "connection")) checked; all fine.")
        } else {
            context.flash(.error, "\(Counted.text(result.checked, "connection")) checked; \(result.failures.count) need attention. See the status below.")
        }
        return .redirect(to: "/dashboard/settings")
    }
}
