import Intake
import Web

/// `POST /dashboard/portals/:id`: the edited settings saved (the portal stays on or off as it
/// was); the form again with the errors if refused.
enum PortalSave {
    static func handle(_ context: RequestContext) throws -> Response {
        let portal = try context.ownedPortal()
        var (input, errors) = PortalForm.parse(context.formFields)
        input.active = portal.active
        if !errors.isEmpty {
            // Every field answered at once: what did not parse, and what the rules say of the rest.
            errors = try context.stores.portals.validate(input, userID: context.user!.id, existing: portal).1.merging(errors)
        } else {
            switch try context.stores.portals.update(id: portal.id, input, by: context.actor) {
            case .success(let saved): return FormAnswer.saved(context, "“\(saved.name)” was saved.", redirect: "/dashboard/portals")
            case .failure(let e): errors = e
            }
        }
        return try FormAnswer.invalid(context, errors) {
            try PortalEditPage.render(context, portal, values: PortalForm.posted(context), errors: errors, status: .unprocessableContent)
        }
    }
}
