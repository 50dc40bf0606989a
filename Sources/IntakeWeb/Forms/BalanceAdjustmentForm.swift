import Intake
import Web

/// The admin's balance form: an amount as typed ("12.50"), credit or debit, and the reason.
struct BalanceAdjustmentForm {
    let amountText: String
    let direction: String
    let reason: String

    init(_ form: FormFields) {
        amountText = form["amount"] ?? ""
        direction = form["direction"] == "debit" ? "debit" : "credit"
        reason = form["reason"] ?? ""
    }

    /// The signed amount (a debit negative), or the field's error.
    func amount(in currency: Currency) throws -> Money {
        let typed: Money
        do { typed = try Money.parse(amountText, currency: currency) } catch let error as ValidationError { throw error.on("amount") }
        return direction == "debit" ? Money(minorUnits: -typed.minorUnits, currency: currency) : typed
    }

    /// The values to show again beside the errors.
    var values: [String: String] { ["amount": amountText, "direction": direction, "reason": reason] }
}
