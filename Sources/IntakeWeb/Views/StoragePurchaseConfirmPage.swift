import Intake
import Templates
import Web

/// `dashboard/storage_confirm`: the confirm step. States exactly what will be charged, from
/// which balance, what is left, the quota after and the expiry; when the balance pays, the
/// Confirm form carries the amount, the stated cost and an idempotency key made for this
/// rendering (so posting it twice buys once). `notice` says why the step is shown again
/// (the price changed, the balance fell short).
enum StoragePurchaseConfirmPage {
    static func render(_ context: RequestContext, quote q: PurchaseQuote, notice: String? = nil, status: HTTPStatus = .ok) throws -> Response {
        try PageView.render(context, "dashboard/storage_confirm", title: "Confirm your purchase", status: status, [
            "sentence": .string(PurchaseQuoteText.sentence(q)),
            "notice": notice.map { .string($0) } ?? .null,
            "gb": .int(Int64(q.gb)),
            "cost": .string(q.cost.description),
            "costMinor": .int(q.cost.minorUnits),
            "balance": .string(q.balance.description),
            "balanceAfter": q.balanceAfter.map { .string($0.description) } ?? .null,
            "shortfall": q.affordable ? .null : .string(PurchaseQuoteText.shortfall(cost: q.cost, balance: q.balance)),
            "quota": .string(ByteSize(bytes: q.quotaBytes).description),
            "quotaAfter": .string(ByteSize(bytes: q.quotaAfterBytes).description),
            "overridden": .bool(q.overridden),
            "expiry": .string(PurchaseQuoteText.expiry(q)),
            "key": .string(StoragePurchaseForm.newKey()),
        ])
    }
}
