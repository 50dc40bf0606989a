import Intake
import Web

/// `POST /dashboard/portals`: a new portal from the form; the list again with the errors if refused.
enum PortalCreate {
    static func handle(_ context: RequestContext) throws -> Response {
        let (input, parsed) = PortalForm.parse(context.formFields)
        var errors = parsed
        if !errors.isEmpty {
            // Every field answered at once: what did not parse, and what the rules say of the rest.
            errors = try context.stores.portals.validate(input, userID: context.user!.id, existing: nil).1.merging(parsed)
        } else {
            switch try context.stores.portals.create(input, userID: context.user!.id, by: context.actor) {
            case .success(let portal): return FormAnswer.saved(context, "Portal created: /p/\(portal.slug)", redirect: "/dashboard/portals")
            case .failure(let e): errors = e
            }
        }
        return try FormAnswer.invalid(context, errors) {
            try PortalListPage.render(context, values: PortalForm.posted(context), errors: errors, status: .unprocessableContent)
        }
    }
}
