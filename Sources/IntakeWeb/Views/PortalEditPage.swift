import Intake
import Templates
import Web

/// `dashboard/portal`: one portal's settings form, with why it does not accept uploads if it does not.
enum PortalEditPage {
    static func render(_ context: RequestContext, _ portal: Portal, values: [String: String], errors: FieldErrors,
                       status: HTTPStatus) throws -> Response {
        let accounts = try context.ownStorageAccounts()
        let acceptance = StorageRules.acceptance(portalActive: portal.active, inactiveReason: portal.inactiveReason, portalAccountID: portal.storageAccountID,
                                                 portalProvider: nil,
                                                 accounts: accounts.map { StorageRules.Account(id: $0.id, provider: $0.provider, status: $0.status) })
        var model = PortalFormView.model(values: values, accounts: accounts, currentAccountID: portal.storageAccountID, hasPassword: portal.hasPassword,
                                         errors: errors)
        model["portal"] = ["id": .int(portal.id), "name": .string(portal.name), "slug": .string(portal.slug),
                           "reason": acceptance.accepts ? .null : acceptance.ownerMessage.map { .string($0) } ?? .null,
                           "logo": PortalBrandView.logoAddress(portal).map(TemplateValue.string) ?? .null,
                           "logoAlt": .string(portal.logoAlt ?? portal.name + " logo"), "logoAltValue": .string(portal.logoAlt ?? "")]
        return try PageView.render(context, "dashboard/portal", title: portal.name, status: status, model)
    }
}
