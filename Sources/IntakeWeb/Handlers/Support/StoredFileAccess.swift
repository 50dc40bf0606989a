import Integrations
import Intake
import Web

/// Where one of the owner's delivered files is, once the download rules let the owner have it:
/// its storage account and the provider's id for it. The single download, the preview and the
/// zip all reach a file's bytes through this.
struct StoredFileAccess {
    let file: FileRecord
    let account: StorageAccount
    let fileID: String

    /// The rules of the single download (`StorageRules.downloadDecision`), as its errors: 404
    /// for another owner's file, 409 `file_unavailable` while its storage cannot be reached or
    /// it is not delivered.
    init(_ context: RequestContext, _ file: FileRecord, accounts: [StorageAccount]) throws {
        switch StorageRules.downloadDecision(fileOwnerID: file.userID, requesterID: context.user!.id, fileAccountID: file.storageAccountID ?? -1,
                                             accounts: accounts.map { StorageRules.Account(id: $0.id, provider: $0.provider, status: $0.status) }) {
        case .notFound: throw HTTPError(.notFound, code: "not_found", "There is no such file.")
        case .unavailable(let message): throw HTTPError(.conflict, code: "file_unavailable", message)
        case .allow(let accountID):
            guard let fileID = file.providerFileID, file.status == FileUploadStatus.uploaded.rawValue,
                  let account = accounts.first(where: { $0.id == accountID }) else {
                throw HTTPError(.conflict, code: "file_unavailable", "This file did not finish uploading, so there is nothing to download.")
            }
            if account.provider == .local, LocalDiskStorage(root: "/").resolve(fileID) == nil {
                throw HTTPError(.notFound, code: "not_found", "There is no such file.")
            }
            self.file = file
            self.account = account
            self.fileID = fileID
        }
    }

    /// Served by nginx from the storage folder (`X-Accel-Redirect`), not by a worker thread.
    var isLocal: Bool { account.provider == .local }

    /// nginx's internal location for a local file.
    var accelPath: String {
        "/_files/\(account.id)/" + fileID.split(separator: "/").map { URLEncodedForm.encode(String($0)) }.joined(separator: "/")
    }

    /// The provider holding the file; a provider that cannot be reached is a 502 naming it.
    func provider(_ context: RequestContext) throws -> StorageProvider {
        try reaching { try context.services.storageProvider(for: account) }
    }

    /// The file's size at its provider: a file gone from there is a clear 404.
    func size(at provider: StorageProvider) throws -> Int64 {
        guard let size = try reaching({ try provider.size(fileID: fileID) }) else {
            throw HTTPError(.notFound, code: "gone_from_storage",
                            "“\(file.fileName)” is no longer in \(account.provider.displayName): it was deleted or moved to the bin there.")
        }
        return size
    }

    private func reaching<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as StorageProviderError {
            throw HTTPError(HTTPStatus(502, "Bad Gateway"), code: "storage_failed",
                            "\(account.provider.displayName) could not be reached for “\(file.fileName)”: \(error.message)")
        }
    }

    /// Why `file` cannot be read now, in the owner's words (nil: it can): for a list of files
    /// such as a zip's, where one that cannot is named rather than silently left out.
    static func unavailability(_ file: FileRecord, accounts: [StorageAccount]) -> String? {
        if file.missingSince != nil { return "missing from its storage" }
        switch FileUploadStatus(rawValue: file.status) {
        case .delivering?: return "still being delivered"
        case .failed?: return "its delivery failed"
        case .uploaded?, nil: break
        }
        guard let account = accounts.first(where: { $0.id == file.storageAccountID }), file.providerFileID != nil else {
            return "its storage account no longer exists"
        }
        switch account.status {
        case .active, .inactive: return nil
        case .disconnected: return "its storage account is disconnected"
        case .error: return "its storage account has an error"
        }
    }
}

/// The headers every download carries, whatever serves it: never sniffed, never run as a page
/// of this site (a sandboxing CSP: no script, no same origin), never cached by shared caches.
enum DownloadHeaders {
    /// For files saved by the browser.
    static let attachmentPolicy = "sandbox; default-src 'none'"
    /// For previews shown in the browser: the image or PDF itself and its viewer's styles, no
    /// script, framed only by this site's preview page.
    static let previewPolicy = "sandbox; default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; frame-ancestors 'self'"

    static func set(_ response: inout Response, contentType: String, disposition: String, policy: String = attachmentPolicy) {
        response.headers.set("content-type", contentType)
        response.headers.set("content-disposition", disposition)
        response.headers.set("cache-control", "private, no-store")
        response.headers.set("x-content-type-options", "nosniff")
        response.headers.set("content-security-policy", policy)
        response.headers.set("x-frame-options", policy == previewPolicy ? "SAMEORIGIN" : "DENY")
    }
}
