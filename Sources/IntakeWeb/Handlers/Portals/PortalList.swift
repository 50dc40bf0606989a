import Intake
import Web

/// `GET /dashboard/portals`: the owner's portals and an empty new-portal form.
enum PortalList {
    static func handle(_ context: RequestContext) throws -> Response {
        try PortalListPage.render(context, values: PortalFormView.newPortal, errors: FieldErrors(), status: .ok)
    }
}
