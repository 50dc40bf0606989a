import Integrations
import Intake
import Web

/// Deleting one of the owner's files (the page's form and the API): from its storage first, then
/// from the database; refused while its storage cannot be reached or while it is being delivered.
enum FileRemoval {
    /// Deletes `file`; what was deleted where.
    static func delete(_ context: RequestContext, _ file: FileRecord) throws -> (deletedFromCloud: Bool, deletedFromDatabase: Bool) {
        guard file.storageStatus?.canAccessFiles == true || file.providerFileID == nil else {
            throw HTTPError(.conflict, code: "file_unavailable", "The file's storage account cannot be reached, so the file is kept. Reconnect it first.")
        }
        do {
            return try context.stores.files.delete(id: file.id, provider: try provider(context, file), by: context.actor)
        } catch let error as StorageProviderError {
            throw HTTPError(HTTPStatus(502, "Bad Gateway"), code: "storage_failed", "The storage refused the deletion: \(error.message)")
        } catch is FileStore.FileBusy {
            throw HTTPError(.conflict, code: "file_busy", "This file is being delivered to its storage right now. Try again once it is delivered.")
        }
    }

    /// The provider holding the file (the same one uploads use), or nil when its account is gone.
    private static func provider(_ context: RequestContext, _ file: FileRecord) throws -> StorageProvider? {
        guard let id = file.storageAccountID,
              let account = try context.stores.storageAccounts.find(id: id) else { return nil }
        return try context.services.storageProvider(for: account)
    }
}
