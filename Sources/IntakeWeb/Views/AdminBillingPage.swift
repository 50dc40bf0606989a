import Intake
import Templates
import Web

/// `admin/billing`: the operator's report — per UTC month (the last 12, most recent first, or
/// the one asked for) plan and purchase revenue per currency, failed renewals and GB-days
/// stored — and the users in a renewal's grace period now; and the same months as CSV.
enum AdminBillingPage {
    /// Months the report shows when none is asked for.
    static let monthCount = 12

    static func months(_ context: RequestContext, month: MonthQuery?) throws -> [BillingReport.Month] {
        let report = context.stores.billingReport
        if let month { return try report.months([BillingMonth(containing: month.start)]) }
        return try report.recentMonths(monthCount)
    }

    static func render(_ context: RequestContext, month: MonthQuery?) throws -> Response {
        let months = try months(context, month: month)
        let grace = try context.stores.billingReport.usersInGrace()
        return try PageView.render(context, "admin/billing", title: "Revenue", [
            "month": .string(month?.text ?? ""),
            "months": .list(months.map { m in
                func amounts(_ pick: (MonthlyRevenue) -> Money) -> TemplateValue {
                    .list(m.revenue.map { .string(pick($0).description) })
                }
                return ["month": .string(m.month.text), "link": .string("/admin/billing?month=" + m.month.text),
                        "plans": amounts(\.plans), "purchases": amounts(\.purchases), "total": amounts(\.total),
                        "failedRenewals": .int(Int64(m.failedRenewals)), "gbDays": .string(GBDaysText.format(m.gbDays))]
            }),
            "hasGrace": .bool(!grace.isEmpty),
            "grace": .list(grace.map { g in
                ["id": .int(g.userID), "email": .string(g.email), "name": .string(g.name), "plan": .string(g.planName ?? "—"),
                 "until": UTCDate.moment(g.graceUntil), "balance": .string(g.balance.description)]
            }),
            "csv": .string("/admin/billing/report.csv" + (month.map { "?month=" + $0.text } ?? "")),
        ])
    }

    /// The monthly table as CSV (RFC 4180), one line per month and currency:
    /// `month,currency,plan_revenue,purchase_revenue,total,failed_renewals,gb_days`. Failed
    /// renewals and GB-days belong to the month, not to a currency, so when a month earned in
    /// several currencies they are on its first line only (a column's sum stays right).
    static func csv(_ context: RequestContext, month: MonthQuery?) throws -> Response {
        var text = "month,currency,plan_revenue,purchase_revenue,total,failed_renewals,gb_days\r\n"
        for m in try months(context, month: month) {
            for (index, revenue) in m.revenue.enumerated() {
                let monthly = index == 0 ? [String(m.failedRenewals), GBDaysText.format(m.gbDays)] : ["", ""]
                text += ([m.month.text, revenue.currency.code, revenue.plans.decimalText, revenue.purchases.decimalText, revenue.total.decimalText]
                         + monthly).map(BillingPage.field).joined(separator: ",") + "\r\n"
            }
        }
        var response = Response.text(text)
        response.headers.set("content-type", "text/csv; charset=utf-8")
        response.headers.set("content-disposition", "attachment; filename=\"billing-report\(month.map { "-" + $0.text } ?? "").csv\"")
        response.headers.set("cache-control", "private, no-store")
        return response
    }
}
