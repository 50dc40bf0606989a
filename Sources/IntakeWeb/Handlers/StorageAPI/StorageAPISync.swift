import Intake
import Web

/// `POST /api/storage/sync-oauth-status`: asks each provider whether access still holds; how
/// many portals that switched off and on.
enum StorageAPISync {
    static func handle(_ context: RequestContext) throws -> Response {
        let services = context.services
        let before = try PortalStateChanges.snapshot(context)
        _ = try services.stores.storageAccountManager.syncOAuthStatus(
            userID: context.user!.id, tokens: try services.accessTokens(), providers: services.configuration.oauthProviders,
            http: try services.curl(), by: context.actor)
        let moved = PortalStateChanges(from: before, to: try PortalStateChanges.snapshot(context))
        return .json(["message": "Storage accounts synced successfully",
                      "summary": ["deactivatedPortals": .int(Int64(moved.deactivated)), "reactivatedPortals": .int(Int64(moved.reactivated))]])
    }
}
