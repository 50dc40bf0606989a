import Web

/// `GET /admin/billing/report.csv?month=YYYY-MM`: the report's monthly table as a CSV download.
enum AdminBillingCSV {
    static func handle(_ context: RequestContext) throws -> Response {
        try AdminBillingPage.csv(context, month: try MonthQuery.parse(try context.request.query()["month"]))
    }
}
