import Intake
import Web

/// `GET /p/:slug/logo`: the portal's logo, as the type its bytes were checked to be, never
/// sniffed (`nosniff`) and sandboxed (an image that a browser opened on its own runs nothing).
enum PublicPortalLogo {
    static func handle(_ context: RequestContext) throws -> Response {
        let portal = try context.publicPortal()
        guard let logo = try context.stores.portals.logo(portalID: portal.id) else {
            throw HTTPError(.notFound, code: "not_found", "This portal has no logo.")
        }
        // The page names the logo with its version (`?v=`), so it may be kept a day.
        return Response(status: .ok, headers: ["content-type": logo.contentType, "cache-control": "public, max-age=86400",
                                               "content-security-policy": PublicPortalLogo.sandbox],
                        body: .bytes(logo.bytes))
    }

    /// The policy of anything served for the browser to open on its own.
    static let sandbox = "default-src 'none'; img-src 'self'; sandbox"
}
