import Intake
import Web

/// `GET /dashboard/portals/:id`: the portal's settings form, every setting the new-portal form
/// has, the storage account included (for files sent from now on).
enum PortalEdit {
    static func handle(_ context: RequestContext) throws -> Response {
        let portal = try context.ownedPortal()
        return try PortalEditPage.render(context, portal, values: PortalFormView.values(of: portal), errors: FieldErrors(), status: .ok)
    }
}
