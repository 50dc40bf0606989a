import Intake
import Web

/// The records a signed-in owner's actions work on, looked up from the path's `id`: another
/// owner's record is a 404, the same as one that does not exist, so ids reveal nothing.
extension RequestContext {
    /// The owner's portal named by the path.
    func ownedPortal() throws -> Portal {
        guard let portal = try stores.portals.find(id: try pathID()), portal.userID == user!.id else {
            throw HTTPError(.notFound, code: "not_found", "There is no such portal.")
        }
        return portal
    }

    /// The owner's file named by the path.
    func ownedFile() throws -> FileRecord {
        guard let file = try stores.files.find(id: try pathID()), file.userID == user!.id else {
            throw HTTPError(.notFound, code: "not_found", "There is no such file.")
        }
        return file
    }

    /// The owner's storage account named by the path.
    func ownedStorageAccount() throws -> StorageAccount {
        guard let account = try stores.storageAccounts.find(id: try pathID()), account.userID == user!.id else {
            throw HTTPError(.notFound, code: "not_found", "There is no such storage account.")
        }
        return account
    }

    /// The owner's storage account a JSON body names: `storageAccountId`, or the only one of `provider`.
    func ownedStorageAccount(namedIn body: [String: Any]) throws -> StorageAccount {
        let mine = try stores.storageAccounts.list(userID: user!.id)
        if let id = (body["storageAccountId"] as? String).flatMap(Int64.init) ?? (body["storageAccountId"] as? Int).map(Int64.init) {
            guard let found = mine.first(where: { $0.id == id }) else { throw HTTPError(.notFound, code: "not_found", "There is no such storage account.") }
            return found
        }
        guard let raw = body["provider"] as? String, let kind = StorageProviderKind(rawValue: raw) else {
            throw HTTPError.badRequest("Send provider (google_drive, dropbox or local) or storageAccountId.", code: "invalid_provider")
        }
        let matching = mine.filter { $0.provider == kind }
        guard let only = matching.first else { throw HTTPError(.notFound, code: "not_found", "No \(raw) storage account is connected.") }
        guard matching.count == 1 else { throw StorageAccountCandidates.ambiguous(matching, provider: raw) }
        return only
    }

    /// Every storage account of the signed-in owner.
    func ownStorageAccounts() throws -> [StorageAccount] {
        try stores.storageAccounts.list(userID: user!.id)
    }
}
