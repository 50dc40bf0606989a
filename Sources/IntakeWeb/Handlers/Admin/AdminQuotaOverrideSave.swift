import Intake
import Web

/// `POST /admin/storage/quotas`: sets (`action=set`, with a size) or clears (`action=clear`) a
/// user's quota override, then back to `return_to` (on this site; the user's page by default).
enum AdminQuotaOverrideSave {
    static func handle(_ context: RequestContext) throws -> Response {
        let form = context.formFields
        guard let userID = Int64(form["user_id"] ?? ""), userID > 0 else {
            throw HTTPError.badRequest("user_id must be a user's id.")
        }
        let back = LocalRedirect.sanitize(form["return_to"], fallback: "/admin/users/\(userID)")
        let store = context.stores.quotas
        switch form["action"] {
        case "clear":
            try store.setOverride(userID: userID, bytes: nil, by: context.actor)
            return FormAnswer.saved(context, "Override cleared; the plan and purchases decide the quota again.", redirect: back)
        case "set":
            var errors = FieldErrors()
            guard let size = errors.capture("override", { try ByteSize.parse(form["override_number"] ?? "", unit: form["override_unit"] ?? "") }) else {
                return try FormAnswer.invalid(context, errors) {
                    try AdminUserPage.render(context, userID: userID, errors: errors,
                                             overrideValue: FormFieldView.size("override", posted: context))
                }
            }
            do {
                try store.setOverride(userID: userID, bytes: size.bytes, by: context.actor)
            } catch let error as ValidationError {
                throw HTTPError(.notFound, code: "not_found", error.message)
            }
            return FormAnswer.saved(context, "Quota override set to \(size).", redirect: back)
        default:
            throw HTTPError.badRequest("action must be set or clear.")
        }
    }
}
