import Intake
import Web

/// `POST /dashboard/portals/:id/toggle`: the portal switched off, or on again (refused while its
/// storage cannot take uploads).
enum PortalToggle {
    static func handle(_ context: RequestContext) throws -> Response {
        let portal = try context.ownedPortal()
        do {
            try context.stores.portals.setActive(id: portal.id, active: !portal.active, by: context.actor)
        } catch let refusal as ValidationError {
            context.flash(.error, refusal.message)
            return .redirect(to: "/dashboard/portals")
        }
        context.flash(.success, portal.active ? "“\(portal.name)” no longer accepts uploads." : "“\(portal.name)” accepts uploads again.")
        return .redirect(to: "/dashboard/portals")
    }
}
