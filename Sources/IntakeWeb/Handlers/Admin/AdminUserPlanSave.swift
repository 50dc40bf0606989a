import Intake
import Web

/// `POST /admin/users/:id/plan`: the user's tariff plan (`plan_id`), or none (`none` or empty:
/// the free storage).
enum AdminUserPlanSave {
    static func handle(_ context: RequestContext) throws -> Response {
        let userID = try context.pathID()
        let raw = context.formFields["plan_id"] ?? ""
        var errors = FieldErrors()
        let planID: Int64?
        if raw.isEmpty || raw == "none" {
            planID = nil
        } else if let id = Int64(raw) {
            planID = id
        } else {
            errors["plan_id"] = "Choose a plan."
            return try FormAnswer.invalid(context, errors) { try AdminUserPage.render(context, userID: userID, errors: errors, overrideValue: nil) }
        }
        do {
            try context.stores.quotas
                .assignPlan(userID: userID, planID: planID, by: context.actor)
        } catch let error as ValidationError {
            errors["plan_id"] = error.message
            return try FormAnswer.invalid(context, errors) { try AdminUserPage.render(context, userID: userID, errors: errors, overrideValue: nil) }
        }
        return FormAnswer.saved(context, planID == nil ? "The user now has the free storage, no plan." : "Plan assigned.",
                                redirect: "/admin/users/\(userID)")
    }
}
