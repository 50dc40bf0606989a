import Intake
import Templates
import Web

/// `GET /admin/diagnostics/cleanup`: what is left behind (the seed's `/debug-cleanup`) — zombies
/// to remove, and the database compared with the providers — each with its repair button.
enum AdminDiagnosticsCleanup {
    static func handle(_ context: RequestContext) throws -> Response {
        try render(context, reconciliation: nil)
    }

    static func render(_ context: RequestContext, reconciliation: TemplateValue?) throws -> Response {
        let zombies = try ZombieCleanup(db: context.services.database, clock: context.services.clock).report()
        return try PageView.render(context, "admin/diagnostics/cleanup", title: "Clean-up · Diagnostics", [
            "zombies": zombieValue(zombies),
            "hasZombies": .bool(!zombies.isEmpty),
            "reconciliation": reconciliation ?? .null,
        ])
    }

    static func zombieValue(_ report: ZombieCleanup.Report) -> TemplateValue {
        func oauth(_ refs: [ZombieCleanup.OAuthAccountRef]) -> TemplateValue {
            .list(refs.map { ["id": .int($0.id), "provider": .string($0.provider), "email": .string($0.email ?? ""), "owner": .string($0.userEmail)] })
        }
        return [
            "unused": oauth(report.unusedOAuthAccounts),
            "revoked": oauth(report.revokedGrantsKept),
            "sessions": .int(Int64(report.expiredSessions)),
            "states": .int(Int64(report.expiredOAuthStates)),
            "reservations": .int(Int64(report.staleReservations.count)),
            "reservedBytes": .string(ByteSize(bytes: report.staleReservations.reduce(0) { $0 + $1.bytes }).description),
            "leases": .int(Int64(report.staleDeliveryLeases.count)),
        ]
    }
}
