import Intake
import Web

/// `POST /dashboard/portals/:id/delete` and `DELETE /api/portals/:id`: the portal deleted
/// (refused while files were received through it: 409 `portal_has_files` for the API).
enum PortalDelete {
    static func handle(_ context: RequestContext) throws -> Response {
        let portal = try context.ownedPortal()
        do {
            try context.stores.portals.delete(id: portal.id, by: context.actor)
        } catch let error as ValidationError {
            if context.request.prefersJSON { throw HTTPError(.conflict, code: "portal_has_files", error.message) }
            context.flash(.error, error.message)
            return .redirect(to: "/dashboard/portals")
        }
        if context.request.prefersJSON { return .json(["success": true]) }
        context.flash(.success, "“\(portal.name)” was deleted.")
        return .redirect(to: "/dashboard/portals")
    }
}
