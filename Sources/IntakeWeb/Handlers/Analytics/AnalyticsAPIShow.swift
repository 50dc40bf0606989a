import Intake
import Web

/// `GET /api/v1/analytics?account_id=|portal_id=`: the analytics page's figures as JSON — files
/// and bytes stored, each of the last 90 days, the largest clients, the file types, the recent
/// failed deliveries. Another owner's account or portal is a 404, as one that does not exist.
enum AnalyticsAPIShow {
    static func handle(_ context: RequestContext) throws -> Response {
        let scope = try AnalyticsScopeForm.parse(try context.request.query())
        guard let report = try context.stores.analytics.report(userID: context.user!.id, scope: scope) else { throw notFound(scope) }
        return .json(AnalyticsPage.json(report))
    }

    /// The answer for an account or portal that is not the owner's.
    static func notFound(_ scope: StorageAnalytics.Scope) -> HTTPError {
        if case .portal = scope { return HTTPError(.notFound, code: "not_found", "There is no such portal.") }
        return HTTPError(.notFound, code: "not_found", "There is no such storage account.")
    }
}
