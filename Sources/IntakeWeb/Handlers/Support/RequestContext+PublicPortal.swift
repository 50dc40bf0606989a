import Intake
import Web

extension RequestContext {
    /// The portal of the path's `slug`, as a visitor reaches it (whatever its state), or a 404.
    func publicPortal() throws -> Portal {
        guard let slug = request.parameters["slug"], let portal = try stores.portals.find(slug: slug) else {
            throw HTTPError(.notFound, code: "not_found", "There is no upload portal at this address.")
        }
        return portal
    }
}
