import Intake
import Sodium
import Web

/// `GET /account`, `POST /account/profile` (name) and `POST /account/password`.
enum AccountHandler {
    static func show(_ context: RequestContext) throws -> Response {
        try page(context, profile: FormState(values: ["name": context.user!.name]), password: FormState(), status: .ok)
    }

    static func saveProfile(_ context: RequestContext) throws -> Response {
        let user = context.user!
        let name = context.formFields["name"] ?? ""
        do {
            try context.services.stores.users.updateName(id: user.id, to: name)
        } catch let error as ValidationError {
            return try page(context, profile: FormState(values: ["name": name], errors: [error.field: error.message]),
                            password: FormState(), status: .unprocessableContent)
        }
        context.flash(.success, "Your name was saved.")
        return .redirect(to: "/account")
    }

    /// `POST /account/notifications`: how the owner hears of uploads (portals may choose otherwise).
    static func saveNotifications(_ context: RequestContext) throws -> Response {
        guard let mode = NotificationMode(rawValue: context.formFields["upload_notifications"] ?? "") else {
            throw HTTPError(.unprocessableContent, code: "invalid", "Choose how you want to hear of uploads.")
        }
        try context.stores.notifications
            .setOwnerMode(userID: context.user!.id, mode, by: AdminForms.actor(context))
        context.flash(.success, "Your notification preference was saved.")
        return .redirect(to: "/account")
    }

    static func savePassword(_ context: RequestContext) throws -> Response {
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
            return try page(context, profile: FormState(values: ["name": user.name]), password: FormState(errors: errors),
                            status: .unprocessableContent)
        }
        try services.stores.users.setPassword(id: user.id, to: new, field: "new_password")
        // Every session ends, this one included; this browser gets a fresh one at once.
        try services.stores.sessions.revokeAll(userID: user.id)
        try SessionCookie.start(context, for: user)
        context.flash(.success, "Your password was changed. Other sessions have been signed out.")
        return .redirect(to: "/account")
    }

    private static func page(_ context: RequestContext, profile: FormState, password: FormState, status: HTTPStatus) throws -> Response {
        let mode = try context.stores.notifications.ownerMode(userID: context.user!.id)
        return try PageView.render(context, "account", title: "Account", status: status, [
            "notifications": NotificationsView.options(selected: mode.rawValue, inherit: nil),
            "profile": profile.templateValue,
            "password": password.templateValue,
            "minimumPasswordLength": .int(Int64(UserRules.minimumPasswordLength)),
        ])
    }
}
