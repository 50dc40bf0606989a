import Intake
import Web

/// `POST /account/notifications`: how the owner hears of uploads (portals may choose otherwise).
enum AccountNotificationsSave {
    static func handle(_ context: RequestContext) throws -> Response {
        guard let mode = NotificationMode(rawValue: context.formFields["upload_notifications"] ?? "") else {
            throw HTTPError(.unprocessableContent, code: "invalid", "Choose how you want to hear of uploads.")
        }
        try context.stores.notifications
            .setOwnerMode(userID: context.user!.id, mode, by: context.actor)
        context.flash(.success, "Your notification preference was saved.")
        return .redirect(to: "/account")
    }
}
