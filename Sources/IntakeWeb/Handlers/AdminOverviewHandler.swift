import Intake
import Web

/// `GET /admin`: the operator's overview.
enum AdminOverviewHandler {
    static func show(_ context: RequestContext) throws -> Response {
        let counts = try context.services.users.counts()
        let sessions = try context.services.sessions.liveCount()
        return try PageView.render(context, "admin/index", title: "Admin", [
            "counts": [
                "users": .int(Int64(counts.total)),
                "admins": .int(Int64(counts.admins)),
                "disabled": .int(Int64(counts.disabled)),
                "sessions": .int(Int64(sessions)),
            ],
        ])
    }
}
