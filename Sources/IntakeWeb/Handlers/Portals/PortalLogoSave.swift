import Intake
import Web

/// `POST /dashboard/portals/:id/logo`: the owner's logo for the portal page (a PNG, JPEG or
/// WebP by its bytes, at most 256 KB) and its text alternative; the portal's page again with the
/// message beside the field if refused.
enum PortalLogoSave {
    static func handle(_ context: RequestContext) throws -> Response {
        let portal = try context.ownedPortal()
        var errors = FieldErrors()
        do {
            let posted = try PortalLogoForm.read(context)
            try context.stores.portals.setLogo(portalID: portal.id, bytes: posted.bytes, alt: posted.alt, by: context.actor)
            return FormAnswer.saved(context, "The logo of “\(portal.name)” was saved.", redirect: "/dashboard/portals/\(portal.id)")
        } catch let error as ValidationError {
            errors[error.field] = error.message
        }
        return try FormAnswer.invalid(context, errors) {
            try PortalEditPage.render(context, portal, values: PortalFormView.values(of: portal), errors: errors, status: .unprocessableContent)
        }
    }
}
