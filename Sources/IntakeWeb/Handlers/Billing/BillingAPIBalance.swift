import Web

/// `GET /api/v1/billing/balance`: `{"balance":"12.50","balanceMinor":1250,"currency":"USD"}`.
enum BillingAPIBalance {
    static func handle(_ context: RequestContext) throws -> Response {
        let balance = try context.stores.ledger.balance(userID: context.user!.id, currency: context.services.configuration.currency)
        return .json(["balance": .string(balance.decimalText), "balanceMinor": .int(balance.minorUnits), "currency": .string(balance.currency.code)])
    }
}
