import Intake
import Web

/// `POST /api/storage/fix-accounts`: missing storage accounts created; a disconnected one
/// comes back only if its provider still honours the grant (otherwise it is listed in
/// `errors`, with the advice to reconnect).
enum StorageAPIFix {
    static func handle(_ context: RequestContext) throws -> Response {
        let services = context.services
        let before = try PortalStateChanges.snapshot(context)
        let summary = try services.stores.storageAccountManager.ensureStorageAccounts(
            userID: context.user!.id, respectDisconnected: false, tokens: try services.accessTokens(), by: context.actor)
        let moved = PortalStateChanges(from: before, to: try PortalStateChanges.snapshot(context))
        return .json(["message": "Storage accounts fixed successfully", "summary": [
            "created": .int(Int64(summary.created)), "reactivated": .int(Int64(summary.reactivated)), "validated": .int(Int64(summary.validated)),
            "errors": .array(summary.errors.map(JSONValue.string)), "reactivatedPortals": .int(Int64(moved.reactivated)),
        ]])
    }
}
