import Intake
import Templates
import Web

/// `dashboard/portal`: one portal's settings form, with why it does not accept uploads if it does not.
enum PortalEditPage {
    static func render(_ context: RequestContext, _ portal: Portal, values: [String: String], errors: FieldErrors,
                       status: HTTPStatus) throws -> Response {
        let accounts = try context.ownStorageAccounts()
        let acceptance = StorageRules.acceptance(of: portal, accounts: accounts)
        var model = PortalFormView.model(values: values, accounts: accounts, currentAccountID: portal.storageAccountID,
                                         currentBackupID: portal.backupStorageAccountID, hasPassword: portal.hasPassword,
                                         errors: errors)
        model["portal"] = ["id": .int(portal.id), "name": .string(portal.name), "slug": .string(portal.slug),
                           "reason": acceptance.accepts ? .null : acceptance.ownerMessage.map { .string($0) } ?? .null,
                           // Accepting, with something to know (its backup takes the files, say).
                           "note": acceptance.accepts ? acceptance.ownerMessage.map { .string($0) } ?? .null : .null,
                           "logo": PortalBrandView.logoAddress(portal).map(TemplateValue.string) ?? .null,
                           "logoAlt": .string(portal.logoAlt ?? portal.name + " logo"), "logoAltValue": .string(portal.logoAlt ?? "")]
        return try PageView.render(context, "dashboard/portal", title: portal.name, status: status, model)
    }
}
