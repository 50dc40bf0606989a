import Intake
import Templates
import Web

/// `account`: the owner's name, password and notification forms, each with its own kept values
/// and errors.
enum AccountPage {
    static func render(_ context: RequestContext, profile: FormState, password: FormState, status: HTTPStatus) throws -> Response {
        let mode = try context.stores.notifications.ownerMode(userID: context.user!.id)
        return try PageView.render(context, "account", title: "Account", status: status, [
            "notifications": NotificationsView.options(selected: mode.rawValue, inherit: nil),
            "profile": profile.templateValue,
            "password": password.templateValue,
            "minimumPasswordLength": .int(Int64(UserRules.minimumPasswordLength)),
        ])
    }
}
