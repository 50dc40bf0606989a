import Intake
import Web

/// A file as the JSON API shows it (one file, and each entry of the list).
enum FileJSON {
    static func value(_ f: FileRecord) -> JSONValue {
        ["id": .string(String(f.id)), "fileName": .string(f.fileName), "size": .int(f.size), "portalId": .string(String(f.portalID)),
         "storageAccountId": f.storageAccountID.map { .string(String($0)) } ?? .null, "storageStatus": f.storageStatus.map { .string($0.rawValue) } ?? .null,
         "storageProvider": f.provider.map { .string($0.rawValue) } ?? .null,
         "status": .string(f.status), "failureReason": f.failureReason.map(JSONValue.string) ?? .null,
         "missingSince": f.missingSince.map(JSONValue.int) ?? .null,
         "sha256": f.sha256.map(JSONValue.string) ?? .null, "clientName": f.clientName.map(JSONValue.string) ?? .null,
         "createdAt": .int(f.createdAt)]
    }
}
