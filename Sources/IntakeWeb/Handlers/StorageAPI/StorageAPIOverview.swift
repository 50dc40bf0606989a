import Intake
import Web

/// `GET /api/v1/storage`: the connections, after creating any missing storage accounts (never
/// reactivating a disconnected one), with the active accounts and what that did.
enum StorageAPIOverview {
    static func handle(_ context: RequestContext) throws -> Response {
        let services = context.services
        let summary = try services.stores.storageAccountManager
            .ensureStorageAccounts(userID: context.user!.id, respectDisconnected: true, by: context.actor)
        let active = try services.stores.storageAccounts.list(userID: context.user!.id).filter { $0.status == .active }
        return .json([
            "accounts": .array(try StorageConnectionJSON.list(context)),
            "activeStorageAccounts": .array(active.map { a in
                ["id": .string(String(a.id)), "provider": .string(a.provider.rawValue), "providerAccountId": .string(a.providerAccountID),
                 "displayName": .string(a.displayName), "email": a.email.map(JSONValue.string) ?? .null, "status": .string(a.status.rawValue)]
            }),
            "fallbackInfo": ["accountsCreated": .int(Int64(summary.created)), "accountsReactivated": .int(Int64(summary.reactivated)),
                             "accountsValidated": .int(Int64(summary.validated)), "errors": .array(summary.errors.map(JSONValue.string))],
        ])
    }
}
