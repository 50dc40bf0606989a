import Intake
import Web

/// `POST /admin/diagnostics/cleanup/zombies`: removes what the clean-up page lists as left
/// behind, with an audit entry (and one per OAuth account changed).
enum AdminDiagnosticsCleanupZombies {
    static func handle(_ context: RequestContext) throws -> Response {
        let removed = try context.services.database.write {
            let removed = try ZombieCleanup(db: context.services.database, clock: context.services.clock).apply(by: context.actor)
            try context.stores.audit.record(context.actor, action: "diagnostics.cleanup", entityType: "site", entityID: nil, after: [
                ("unused_oauth_accounts", String(removed.unusedOAuthAccounts.count)), ("revoked_grants", String(removed.revokedGrantsKept.count)),
                ("expired_sessions", String(removed.expiredSessions)), ("expired_oauth_states", String(removed.expiredOAuthStates)),
                ("stale_reservations", String(removed.staleReservations.count)), ("stale_delivery_leases", String(removed.staleDeliveryLeases.count)),
            ])
            return removed
        }
        let message = removed.isEmpty ? "Nothing was left behind." :
            "Removed \(removed.unusedOAuthAccounts.count) unused OAuth account(s), forgot the tokens of \(removed.revokedGrantsKept.count) revoked grant(s), "
            + "removed \(removed.expiredSessions) expired session(s), \(removed.expiredOAuthStates) expired OAuth state(s), "
            + "\(removed.staleReservations.count) stale reservation(s) and released \(removed.staleDeliveryLeases.count) stale delivery lease(s)."
        return FormAnswer.saved(context, message, redirect: "/admin/diagnostics/cleanup")
    }
}
