import Intake
import Web

/// A portal as the JSON API shows it (the seed's shape: ids as strings, the storage provider
/// from the portal's account among `accounts`, and the upload count when it is known).
enum PortalJSON {
    static func value(_ p: Portal, uploads: Int? = nil, accounts: [StorageAccount] = []) -> JSONValue {
        var fields: [(String, JSONValue)] = [
            ("id", .string(String(p.id))), ("name", .string(p.name)), ("slug", .string(p.slug)), ("description", .string(p.description)),
            ("storageProvider", accounts.first { $0.id == p.storageAccountID }.map { .string($0.provider.rawValue) } ?? .null),
            ("storageAccountId", p.storageAccountID.map { .string(String($0)) } ?? .null),
            ("backupStorageAccountId", p.backupStorageAccountID.map { .string(String($0)) } ?? .null), ("isActive", .bool(p.active)),
            ("inactiveReason", p.inactiveReason.map(JSONValue.string) ?? .null), ("hasPassword", .bool(p.hasPassword)),
            ("requireClientName", .bool(p.clientNameMode == .required)), ("requireClientEmail", .bool(p.clientEmailMode == .required)),
            ("clientNameMode", .string(p.clientNameMode.rawValue)), ("clientEmailMode", .string(p.clientEmailMode.rawValue)),
            ("messageField", .bool(p.messageField)), ("folderName", .string(p.folderName)), ("clientSubfolders", .bool(p.clientSubfolders)),
            ("maxFileSize", p.maxFileBytes.map { .int($0) } ?? .null), ("allowedTypes", .array(p.allowedExtensions.sorted().map(JSONValue.string))),
            ("allowedFamilies", .array(p.allowedFamilies.sorted().map { .string($0.rawValue) })),
            ("accentColor", p.accentColor.map(JSONValue.string) ?? .null), ("hasLogo", .bool(p.logoUpdatedAt != nil)),
            ("maxFiles", .int(Int64(p.maxFiles))), ("notifications", p.notifications.map { .string($0.rawValue) } ?? .null),
        ]
        if let uploads {
            fields.append(("uploadCount", .int(Int64(uploads))))
            fields.append(("_count", ["uploads": .int(Int64(uploads))]))
        }
        return .object(fields)
    }
}
