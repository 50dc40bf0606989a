import Intake
import Web

/// `GET /admin`: the operator's overview.
enum AdminOverview {
    static func handle(_ context: RequestContext) throws -> Response {
        let counts = try context.services.stores.users.counts()
        let sessions = try context.services.stores.sessions.liveCount()
        let totals = try context.stores.siteTotals.figures()
        return try PageView.render(context, "admin/index", title: "Admin", [
            "counts": [
                "users": .int(Int64(counts.total)),
                "admins": .int(Int64(counts.admins)),
                "disabled": .int(Int64(counts.disabled)),
                "sessions": .int(Int64(sessions)),
                "portals": .int(Int64(totals.portals)),
                "files": .int(totals.files),
                "bytes": .string(ByteSize(bytes: totals.bytes).description),
                "delivering": .int(totals.delivering),
                "failed": .int(totals.failedDeliveries), "failedFiles": .string(Counted.text(totals.failedDeliveries, "file")),
            ],
            "deliveryTrouble": .bool(totals.failedDeliveries > 0),
            "scanning": .bool(context.services.configuration.clamdSocket != nil),
        ])
    }
}
