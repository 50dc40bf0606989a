import Intake
import Templates
import Web

/// `portal/show`: the public upload page — the portal's rules, the client's fields, the password
/// gate when it has one and no token was earned yet, and why it is closed when it cannot take files.
enum PortalPage {
    static func render(_ context: RequestContext, _ portal: Portal, token: String?, error: String?, status: HTTPStatus) throws -> Response {
        let services = context.services
        let owner = try services.stores.users.find(id: portal.userID)
        let accepts = try acceptance(context, portal)
        let needsPassword = portal.hasPassword && token == nil
        let maxFile = try services.stores.portals.fileLimit(of: portal)
        func mode(_ m: FieldMode) -> TemplateValue { ["required": .bool(m == .required), "shown": .bool(m != .hidden)] }
        return try PageView.render(context, "portal/show", title: portal.name, status: status, [
            "portal": ["name": .string(portal.name), "slug": .string(portal.slug), "description": .string(portal.description),
                       "owner": .string(owner?.name ?? ""), "id": .int(portal.id), "maxFiles": .int(Int64(portal.maxFiles)),
                       "maxFile": .string(ByteSize(bytes: maxFile).description), "maxFileBytes": .int(maxFile),
                       "resumableThreshold": .int(context.services.configuration.tusThresholdBytes),
                       "resumableChunk": .int(context.services.configuration.tusChunkBytes),
                       "accepted": PortalBrandView.accepted(portal), "brand": PortalBrandView.model(portal),
                       "clientName": mode(portal.clientNameMode), "clientEmail": mode(portal.clientEmailMode), "message": .bool(portal.messageField)],
            "closed": accepts.accepts ? .null : .string(accepts.clientMessage ?? "This portal cannot accept uploads right now."),
            "needsPassword": .bool(needsPassword && accepts.accepts),
            "canUpload": .bool(accepts.accepts && !needsPassword),
            "token": .string(token ?? ""),
            "error": error.map { .string($0) } ?? .null,
        ])
    }

    /// Whether the portal takes files now, by its state, its owner's storage accounts and room
    /// (an owner at or over quota takes nothing, whatever the over-quota policy).
    private static func acceptance(_ context: RequestContext, _ portal: Portal) throws -> StorageRules.Acceptance {
        let acceptance = StorageRules.acceptance(of: portal, accounts: try context.stores.storageAccounts.list(userID: portal.userID))
        if acceptance.accepts, let quota = try context.stores.quotas.quota(userID: portal.userID), quota.usedBytes >= quota.effectiveBytes {
            return StorageRules.storageFull
        }
        return acceptance
    }
}
