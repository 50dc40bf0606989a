import Intake
import Web

/// `POST /admin/users/:id/balance`: credit or debit the user's balance (`amount`, `direction`,
/// `reason`); never below zero; audited and shown on the user's statement.
enum AdminUserBalanceSave {
    static func handle(_ context: RequestContext) throws -> Response {
        let userID = try context.pathID()
        guard try context.stores.users.find(id: userID) != nil else { throw HTTPError(.notFound, code: "not_found", "There is no such user.") }
        let form = BalanceAdjustmentForm(context.formFields)
        var errors = FieldErrors()
        do {
            let after = try context.stores.ledger.adjust(userID: userID, amount: try form.amount(in: context.services.configuration.currency),
                                                         reason: form.reason, by: context.actor)
            return FormAnswer.saved(context, "The balance is now \(after).", redirect: "/admin/users/\(userID)")
        } catch let error as ValidationError {
            errors[error.field == "reason" ? "balance_reason" : "balance_amount"] = error.message
        } catch let short as InsufficientBalance {
            errors["balance_amount"] = "This would take the balance below zero: \(short)"
        }
        return try FormAnswer.invalid(context, errors) {
            try AdminUserPage.render(context, userID: userID, errors: errors, overrideValue: nil, balanceForm: form.values)
        }
    }
}
