import Intake
import Templates
import Web

/// `GET /admin/diagnostics/cleanup`: what is left behind (the seed's `/debug-cleanup`) — zombies
/// to remove, and one owner's storage compared with the providers — each with its repair button.
/// The comparison runs only when asked (it reads every file of the owner's, at the providers too).
enum AdminDiagnosticsCleanup {
    static func handle(_ context: RequestContext) throws -> Response {
        try render(context, reconciliation: nil, errors: FieldErrors(), owner: "")
    }

    /// The page, with a reconciliation's report when one was just run (`reconciliation`), and the
    /// owner field's value and error.
    static func render(_ context: RequestContext, reconciliation: TemplateValue?, errors: FieldErrors, owner: String) throws -> Response {
        let database = context.services.database, clock = context.services.clock
        let zombies = try ZombieCleanup(db: database, clock: clock).report()
        return try PageView.render(context, "admin/diagnostics/cleanup", title: "Clean-up · Diagnostics", [
            "zombies": zombieValue(zombies),
            "hasZombies": .bool(!zombies.isEmpty),
            "reconciliation": reconciliation ?? .null,
            "owner": .string(owner),
            "ownerError": errors["owner"].map(TemplateValue.string) ?? .null,
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
