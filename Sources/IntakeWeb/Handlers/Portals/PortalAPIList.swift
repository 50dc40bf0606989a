import Intake
import Web

/// `GET /api/portals`: the owner's portals with their upload counts.
enum PortalAPIList {
    static func handle(_ context: RequestContext) throws -> Response {
        let accounts = try context.ownStorageAccounts()
        return .json(.array(try context.stores.portals.list(userID: context.user!.id).map {
            PortalJSON.value($0.portal, uploads: $0.uploads, accounts: accounts)
        }))
    }
}
