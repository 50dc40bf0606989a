import Intake
import Web

/// `GET /p/:slug`: the portal's upload page (behind its password gate when it has one).
enum PublicPortalShow {
    static func handle(_ context: RequestContext) throws -> Response {
        let portal = try context.publicPortal()
        return try PortalPage.render(context, portal, token: nil, error: nil, status: .ok)
    }
}
