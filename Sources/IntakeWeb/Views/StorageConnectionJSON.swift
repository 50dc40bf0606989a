import Intake
import Web

/// An OAuth connection as the storage API shows it: the provider's account, its storage account
/// and that account's state, and what is known of the grant.
enum StorageConnectionJSON {
    static func value(_ c: StorageAccountManager.Connection) -> JSONValue {
        [
            "provider": .string(c.provider.rawValue),
            "providerAccountId": .string(c.providerAccountID),
            "email": c.email.map(JSONValue.string) ?? .null,
            "name": c.name.map(JSONValue.string) ?? .null,
            "isConnected": .bool(c.storageStatus == .active),
            "storageAccountId": c.storageAccountID.map { .string(String($0)) } ?? .null,
            "storageStatus": c.storageStatus.map { .string($0.rawValue) } ?? .null,
            "isAuthAccount": false,
            // True only while the provider's last answer honoured the grant (issue 12 item 6).
            "hasValidOAuth": .bool(c.grant == .valid),
            // What is known of the grant: valid, unchecked (the provider could not be asked),
            // refused (by the provider: reconnect) or none (none held: reconnect).
            "oauthStatus": .string(c.grant.rawValue),
        ]
    }

    /// Every connection of the signed-in owner.
    static func list(_ context: RequestContext) throws -> [JSONValue] {
        try context.stores.storageAccountManager.connections(userID: context.user!.id).map(value)
    }
}
