import Web

/// `GET /dashboard/billing/statement.csv?month=YYYY-MM`: the statement as a CSV download.
enum BillingStatementCSV {
    static func handle(_ context: RequestContext) throws -> Response {
        try BillingPage.csv(context, month: try MonthQuery.parse(try context.request.query()["month"]))
    }
}
