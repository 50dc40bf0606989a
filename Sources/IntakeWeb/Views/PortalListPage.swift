import Intake
import Templates
import Web

/// `dashboard/portals`: the owner's portals, each with whether it accepts uploads and why not,
/// and the new-portal form (empty, or as posted with its errors).
enum PortalListPage {
    static func render(_ context: RequestContext, values: [String: String], errors: FieldErrors, status: HTTPStatus) throws -> Response {
        let portals = try context.stores.portals.list(userID: context.user!.id)
        let accounts = try context.ownStorageAccounts()
        var model = PortalFormView.model(values: values, accounts: accounts, currentAccountID: nil, hasPassword: false, errors: errors)
        model["hasPortals"] = .bool(!portals.isEmpty)
        model["portals"] = .list(portals.map { entry in
            let p = entry.portal
            let acceptance = StorageRules.acceptance(of: p, accounts: accounts)
            return ["id": .int(p.id), "name": .string(p.name), "slug": .string(p.slug), "uploads": .int(Int64(entry.uploads)),
                    "accepts": .bool(acceptance.accepts), "reason": acceptance.ownerMessage.map { .string($0) } ?? .null,
                    "account": .string(accounts.first { $0.id == p.storageAccountID }?.displayName ?? "—")]
        })
        return try PageView.render(context, "dashboard/portals", title: "Portals", status: status, model)
    }
}
