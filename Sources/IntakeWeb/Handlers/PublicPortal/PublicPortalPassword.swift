import Intake
import Web

/// `POST /p/:slug/password`: the password gate. The right password earns a signed, short-lived
/// token that the upload form carries; a wrong one shows the gate again (401).
enum PublicPortalPassword {
    static func handle(_ context: RequestContext) throws -> Response {
        let portal = try context.publicPortal()
        let store = context.stores.portals
        guard try store.verifyPassword(portalID: portal.id, password: context.formFields["password"] ?? "") else {
            return try PortalPage.render(context, portal, token: nil, error: "That password is not right.", status: .unauthorized)
        }
        let token = PortalAccess.token(portalID: portal.id, now: context.services.clock.now(), key: context.services.secretKey)
        return try PortalPage.render(context, portal, token: token, error: nil, status: .ok)
    }
}
