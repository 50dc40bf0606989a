import Intake
import Web

/// `POST /api/portals`: a new portal from a JSON body (201), or 422 with the errors by field.
enum PortalAPICreate {
    static func handle(_ context: RequestContext) throws -> Response {
        let request = try PortalForm.parseJSON(context, existing: nil)
        guard request.errors.isEmpty else {
            // Every field answered at once: what did not parse, and what the rules say of the rest.
            let rules = try context.stores.portals.validate(request.input, userID: context.user!.id, existing: nil).1
            return try FormAnswer.invalid(context, PortalForm.jsonErrors(rules).merging(request.errors))
        }
        var input = request.input
        if let active = request.active { input.active = active }
        switch try context.stores.portals.create(input, userID: context.user!.id, by: context.actor) {
        case .success(let portal): return .json(PortalJSON.value(portal, accounts: try context.ownStorageAccounts()), status: .created)
        case .failure(let errors): return try FormAnswer.invalid(context, PortalForm.jsonErrors(errors))
        }
    }
}
