import Intake
import Web

/// `GET /dashboard/analytics?scope=`: the owner's storage analytics for all their files, one
/// storage account or one portal — charts drawn on the server, each with its table, readable
/// without script. Read from the rollups, so the page costs the same at a million files.
enum AnalyticsShow {
    static func handle(_ context: RequestContext) throws -> Response {
        let user = context.user!
        let scope = try AnalyticsScopeForm.parse(try context.request.query())
        guard let report = try context.stores.analytics.report(userID: user.id, scope: scope) else { throw AnalyticsAPIShow.notFound(scope) }
        let accounts = try context.ownStorageAccounts()
        let portals = try context.stores.portals.list(userID: user.id).map(\.portal)
        let scopeName = switch scope {
        case .owner: "all files"
        case .account(let id): accounts.first { $0.id == id }.map { "storage " + AnalyticsPage.accountName($0) } ?? "one storage account"
        case .portal(let id): portals.first { $0.id == id }.map { "portal " + $0.name } ?? "one portal"
        }
        var values = AnalyticsPage.values(report, scopeName: scopeName)
        values["choices"] = .list(AnalyticsPage.choices(accounts: accounts, portals: portals, selected: scope))
        return try PageView.render(context, "dashboard/analytics", title: "Analytics", values)
    }
}
