import Web

/// `GET /dashboard/billing?month=YYYY-MM`: the user's balance and statement.
enum BillingShow {
    static func handle(_ context: RequestContext) throws -> Response {
        try BillingPage.render(context, month: try MonthQuery.parse(try context.request.query()["month"]))
    }
}
