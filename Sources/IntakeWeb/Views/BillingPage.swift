import Intake
import Templates
import Web

/// `dashboard/billing`: the balance, and the statement (every ledger row with the balance after
/// it), for one month or all of them.
enum BillingPage {
    static func render(_ context: RequestContext, month: MonthQuery?) throws -> Response {
        let currency = context.services.configuration.currency
        let userID = context.user!.id
        let balance = try context.stores.ledger.balance(userID: userID, currency: currency)
        let statement = try context.stores.ledger.statement(userID: userID, currency: currency, from: month?.start, to: month?.end)
        let query = month.map { "?month=" + $0.text } ?? ""
        // GB-days of the month shown, or of this month when the statement shows them all.
        let storageMonth = BillingMonth(containing: month?.start ?? context.stores.clock.now())
        let gbDays = try context.stores.usageSnapshots.gbDays(userID: userID, monthStart: storageMonth.start, monthEnd: storageMonth.end)
        return try PageView.render(context, "dashboard/billing", title: "Billing", [
            "balance": .string(balance.description),
            "month": .string(month?.text ?? ""),
            "opening": .string(statement.opening.description),
            "hasLines": .bool(!statement.lines.isEmpty),
            "lines": .list(statement.lines.reversed().map { line in
                ["date": UTCDate.moment(line.createdAt), "reason": .string(line.reason),
                 "amount": .string((line.amount.minorUnits > 0 ? "+" : "") + line.amount.decimalText),
                 "credit": .bool(line.amount.minorUnits > 0), "balance": .string(line.balanceAfter.decimalText)]
            }),
            "csv": .string("/dashboard/billing/statement.csv" + query),
            "storage": ["month": .string(storageMonth.text), "gbDays": .string(GBDaysText.format(gbDays))],
        ])
    }

    /// The statement as CSV (RFC 4180): date, reason, amount, balance after, currency.
    static func csv(_ context: RequestContext, month: MonthQuery?) throws -> Response {
        let currency = context.services.configuration.currency
        let statement = try context.stores.ledger.statement(userID: context.user!.id, currency: currency, from: month?.start, to: month?.end)
        var text = "date,reason,amount,balance,currency\r\n"
        for line in statement.lines {
            text += [UTCDate.minute(line.createdAt), line.reason, line.amount.decimalText, line.balanceAfter.decimalText, currency.code]
                .map(field).joined(separator: ",") + "\r\n"
        }
        var response = Response.text(text)
        response.headers.set("content-type", "text/csv; charset=utf-8")
        response.headers.set("content-disposition", "attachment; filename=\"statement\(month.map { "-" + $0.text } ?? "").csv\"")
        response.headers.set("cache-control", "private, no-store")
        return response
    }

    /// A CSV field, quoted when it must be; a leading `=`, `+`, `-` or `@` is neutralised so a
    /// spreadsheet never runs a reason as a formula.
    static func field(_ raw: String) -> String {
        var value = raw
        if let first = value.first, "=+-@".contains(first), Double(value) == nil { value = "'" + value }
        guard value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\r" || $0 == "\n" }) else { return value }
        return "\"" + value.split(separator: "\"", omittingEmptySubsequences: false).joined(separator: "\"\"") + "\""
    }
}
