import Intake
import Web

/// `GET /dashboard`: the signed-in user's overview.
enum DashboardShow {
    static func handle(_ context: RequestContext) throws -> Response {
        let user = context.user!
        return try PageView.render(context, "dashboard/index", title: "Dashboard", [
            "role": .string(user.role == .admin ? "Administrator" : "Portal owner"),
            "memberSince": .string(UTCDate.day(user.createdAt)),
        ])
    }
}
