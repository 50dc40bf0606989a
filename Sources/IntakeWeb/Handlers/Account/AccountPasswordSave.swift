import Intake
import Sodium
import Web

/// `POST /account/password`: a new password, given the current one; every session ends, and
/// this browser gets a fresh one at once.
enum AccountPasswordSave {
    static func handle(_ context: RequestContext) throws -> Response {
        let services = context.services
        let user = context.user!
        let form = context.formFields
        let current = form["current_password"] ?? ""
        let new = form["new_password"] ?? ""
        var errors: [String: String] = [:]
        let stored = try services.stores.users.findForSignIn(email: user.email)
        if !PasswordHash.verify(current, against: stored?.passwordHash ?? PasswordHash.decoy) {
            errors["current_password"] = "This is not your current password."
        }
        do { _ = try UserRules.password(new, field: "new_password") } catch let e as ValidationError { errors[e.field] = e.message }
        if errors["new_password"] == nil && new != (form["confirm_password"] ?? "") {
            errors["confirm_password"] = "The two new passwords are not the same."
        }
        guard errors.isEmpty else {
            return try AccountPage.render(context, profile: FormState(values: ["name": user.name]), password: FormState(errors: errors),
                                          status: .unprocessableContent)
        }
        try services.stores.users.setPassword(id: user.id, to: new, field: "new_password")
        // Every session ends, this one included; this browser gets a fresh one at once.
        try services.stores.sessions.revokeAll(userID: user.id)
        try SessionCookie.start(context, for: user)
        context.flash(.success, "Your password was changed. Other sessions have been signed out.")
        return .redirect(to: "/account")
    }
}
