import Integrations
import Intake
import Web

/// `POST /dashboard/settings/check`: the storage page's one "Check again" — an account for every
/// connection that lacks one (the seed's fix storage), then each provider asked whether Intake's
/// access still holds (sync OAuth status); answered in plain words with a flash.
enum StorageCheckAll {
    static func handle(_ context: RequestContext) throws -> Response {
        let services = context.services
        let manager = services.stores.storageAccountManager
        let tokens = try services.accessTokens()
        let fixed = try manager.ensureStorageAccounts(userID: context.user!.id, respectDisconnected: false, tokens: tokens, by: context.actor)
        let synced = try manager.syncOAuthStatus(userID: context.user!.id, tokens: tokens, providers: services.configuration.oauthProviders,
                                                 http: try services.curl(), by: context.actor)
        var parts: [String] = []
        if fixed.created > 0 { parts.append("\(Counted.text(fixed.created, "storage account")) added for connections that had none") }
        if fixed.reactivated > 0 { parts.append("\(Counted.text(fixed.reactivated, "storage account")) working again") }
        let problems = fixed.errors + synced.failures
        if problems.isEmpty {
            let checked = synced.checked == 0 ? "Your storage is checked" : "\(Counted.text(synced.checked, "connection")) checked with the provider"
            context.flash(.success, ([checked] + parts).joined(separator: "; ") + ". Everything works.")
        } else {
            context.flash(.error, (["Checked"] + parts).joined(separator: "; ") + ". Needs attention: \(problems.joined(separator: "; ")). See each account below.")
        }
        return .redirect(to: "/dashboard/settings")
    }
}
