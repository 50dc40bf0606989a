import Intake
import Web

/// `GET /admin`: the operator's overview.
enum AdminOverviewHandler {
    static func show(_ context: RequestContext) throws -> Response {
        let counts = try context.services.users.counts()
        let sessions = try context.services.sessions.liveCount()
        let db = context.services.database
        let portals = try db.scalar("SELECT count(*) FROM portals", as: Int.self) ?? 0
        let files = try db.queryOne("SELECT count(*) AS n, coalesce(sum(size_bytes), 0) AS bytes FROM file_uploads WHERE status = 'uploaded'")!
        let delivering = try db.scalar("SELECT count(*) FROM file_uploads WHERE status = 'delivering'", as: Int64.self) ?? 0
        let failed = try db.scalar("SELECT count(*) FROM file_uploads WHERE status = 'failed'", as: Int64.self) ?? 0
        return try PageView.render(context, "admin/index", title: "Admin", [
            "counts": [
                "users": .int(Int64(counts.total)),
                "admins": .int(Int64(counts.admins)),
                "disabled": .int(Int64(counts.disabled)),
                "sessions": .int(Int64(sessions)),
                "portals": .int(Int64(portals)),
                "files": .int(try files.get("n", as: Int64.self)),
                "bytes": .string(ByteSize(bytes: try files.get("bytes", as: Int64.self)).description),
                "delivering": .int(delivering),
                "failed": .int(failed),
            ],
            "deliveryTrouble": .bool(failed > 0),
            "scanning": .bool(context.services.configuration.clamdSocket != nil),
        ])
    }
}
