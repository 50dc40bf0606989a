import Integrations
import Intake
import Templates
import Web

/// `GET /dashboard/settings`: the user's connected storage, each account with what is known of its
/// OAuth grant and the actions its state allows — Pause uploads, Reactivate, Disconnect, Check
/// again, Reconnect — plus connect, fix storage and sync OAuth status; each a CSRF-protected form
/// post answered with a flash.
enum StorageSettingsShow {
    static func handle(_ context: RequestContext) throws -> Response {
        let services = context.services
        let user = context.user!
        let accounts = try services.stores.storageAccounts.list(userID: user.id)
        var grants: [Int64: OAuthGrantState] = [:]
        for connection in try services.stores.storageAccountManager.connections(userID: user.id) {
            if let id = connection.storageAccountID { grants[id] = connection.grant }
        }
        let providers = services.configuration.oauthProviders
        return try PageView.render(context, "dashboard/settings", title: "Storage", [
            "accounts": .list(accounts.map { account in
                let isLocal = account.provider == .local
                let grant = grants[account.id]
                let indicator = StorageStatusIndicator(status: account.status, legacy: !isLocal && grant == nil)
                let status = account.status
                return [
                    "id": .int(account.id), "name": .string(account.displayName), "email": account.email.map { .string($0) } ?? .null,
                    "provider": .string(account.provider.displayName),
                    "providerKind": .string(account.provider.oauth?.rawValue ?? ""),
                    "grant": .string((grant ?? .none).label),
                    "isLocal": .bool(isLocal),
                    "status": .string(status.rawValue), "indicator": .string(indicator.colour), "indicatorLabel": .string(indicator.label),
                    "lastError": account.lastError.map { .string($0) } ?? .null,
                    "files": .string("\(account.uploadedFiles) (\(ByteSize(bytes: account.uploadedBytes).display()))"),
                    "canPause": .bool(status == .active),
                    "canDisconnect": .bool(!isLocal && status != .disconnected),
                    // A disconnected cloud account can be tried again only while a refused grant is still held.
                    "canReactivate": .bool(status == .inactive || (status == .disconnected && (isLocal || grant == .refused))),
                    "reactivateAsks": .bool(!isLocal && status == .disconnected),
                    "canCheckAgain": .bool(status == .error),
                    "canReconnect": .bool(!isLocal && (status == .disconnected || status == .error)),
                ]
            }),
            "hasAccounts": .bool(!accounts.isEmpty),
            "providers": .list([OAuthProvider.Kind.google, .dropbox].map { kind in
                ["kind": .string(kind.rawValue), "label": .string(StorageProviderKind(kind).displayName),
                 "configured": .bool(providers[kind]?.isConfigured == true)]
            }),
        ])
    }
}
