import Intake
import Templates
import Web

/// `GET /dashboard/portals/:id` (the portal's settings) and `POST /dashboard/portals/:id` (save):
/// every setting the new-portal form has, the storage account included (for files sent from now on).
enum PortalEditHandler {
    static func show(_ context: RequestContext) throws -> Response {
        let portal = try PortalsHandler.owned(context)
        return try page(context, portal, values: PortalFormView.values(of: portal), errors: FieldErrors(), status: .ok)
    }

    static func save(_ context: RequestContext) throws -> Response {
        let portal = try PortalsHandler.owned(context)
        var (input, errors) = PortalsHandler.input(context.formFields, existing: portal)
        input.active = portal.active
        if errors.isEmpty {
            switch try PortalsHandler.store(context).update(id: portal.id, input, by: AdminForms.actor(context)) {
            case .success(let saved): return AdminForms.saved(context, "“\(saved.name)” was saved.", redirect: "/dashboard/portals")
            case .failure(let e): errors = e
            }
        }
        return try AdminForms.invalid(context, errors) {
            try page(context, portal, values: PortalsHandler.posted(context), errors: errors, status: .unprocessableContent)
        }
    }

    static func page(_ context: RequestContext, _ portal: Portal, values: [String: String], errors: FieldErrors, status: HTTPStatus) throws -> Response {
        let accounts = try PortalsHandler.accounts(context)
        let acceptance = StorageRules.acceptance(portalActive: portal.active, inactiveReason: portal.inactiveReason, portalAccountID: portal.storageAccountID,
                                                 portalProvider: nil,
                                                 accounts: accounts.map { StorageRules.Account(id: $0.id, provider: $0.provider, status: $0.status) })
        var model = PortalFormView.model(values: values, accounts: accounts, currentAccountID: portal.storageAccountID, hasPassword: portal.hasPassword,
                                         errors: errors)
        model["portal"] = ["id": .int(portal.id), "name": .string(portal.name), "slug": .string(portal.slug),
                           "reason": acceptance.accepts ? .null : acceptance.ownerMessage.map { .string($0) } ?? .null]
        return try PageView.render(context, "dashboard/portal", title: portal.name, status: status, model)
    }
}
