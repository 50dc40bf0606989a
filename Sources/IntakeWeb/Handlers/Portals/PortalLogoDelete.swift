import Intake
import Web

/// `POST /dashboard/portals/:id/logo/delete`: the portal page goes back to showing no logo.
enum PortalLogoDelete {
    static func handle(_ context: RequestContext) throws -> Response {
        let portal = try context.ownedPortal()
        try context.stores.portals.removeLogo(portalID: portal.id, by: context.actor)
        return FormAnswer.saved(context, "The logo of “\(portal.name)” was removed.", redirect: "/dashboard/portals/\(portal.id)")
    }
}
