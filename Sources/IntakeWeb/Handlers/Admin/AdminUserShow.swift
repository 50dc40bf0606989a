import Intake
import Web

/// `GET /admin/users/:id`: one user with usage and quota parts.
enum AdminUserShow {
    static func handle(_ context: RequestContext) throws -> Response {
        try AdminUserPage.render(context, userID: try context.pathID(), errors: FieldErrors(), overrideValue: nil)
    }
}
