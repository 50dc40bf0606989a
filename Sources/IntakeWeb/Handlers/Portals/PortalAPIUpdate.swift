import Intake
import Web

/// `PUT /api/portals/:id`: the fields the JSON body names changed, the rest kept; `isActive`
/// switches the portal (409 `storage_unavailable` when its storage cannot take uploads).
enum PortalAPIUpdate {
    static func handle(_ context: RequestContext) throws -> Response {
        let portal = try context.ownedPortal()
        let request = try PortalForm.parseJSON(context, existing: portal)
        guard request.errors.isEmpty else {
            // Every field answered at once: what did not parse, and what the rules say of the rest.
            let rules = try context.stores.portals.validate(request.input, userID: context.user!.id, existing: portal).1
            return try FormAnswer.invalid(context, PortalForm.jsonErrors(rules).merging(request.errors))
        }
        let store = context.stores.portals
        switch try store.update(id: portal.id, request.input, by: context.actor) {
        case .success(let saved):
            if let active = request.active, active != saved.active {
                do {
                    try store.setActive(id: saved.id, active: active, by: context.actor)
                } catch let refusal as ValidationError {
                    throw HTTPError(.conflict, code: "storage_unavailable", refusal.message)
                }
            }
            return .json(PortalJSON.value(try context.ownedPortal(), accounts: try context.ownStorageAccounts()))
        case .failure(let errors): return try FormAnswer.invalid(context, PortalForm.jsonErrors(errors))
        }
    }
}
