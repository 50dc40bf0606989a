import Web

/// `GET /admin/billing?month=YYYY-MM`: the billing report, the last 12 months or one of them.
enum AdminBillingShow {
    static func handle(_ context: RequestContext) throws -> Response {
        try AdminBillingPage.render(context, month: try MonthQuery.parse(try context.request.query()["month"]))
    }
}
