import Intake
import Web

/// `GET /api/portals/:id`: one of the owner's portals.
enum PortalAPIShow {
    static func handle(_ context: RequestContext) throws -> Response {
        .json(PortalJSON.value(try context.ownedPortal(), accounts: try context.ownStorageAccounts()))
    }
}
