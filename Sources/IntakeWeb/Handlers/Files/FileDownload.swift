import Integrations
import Intake
import Web

/// `GET /api/uploads/:id/download`: the file's bytes for its owner, while its storage account
/// allows it (ACTIVE or INACTIVE; otherwise 409 `file_unavailable`).
enum FileDownload {
    /// Local files through nginx (`X-Accel-Redirect`), so the
    /// worker thread is free at once; Drive and Dropbox files streamed from the provider (its size
    /// asked first, so a file gone from there is a clear 404 and the length is known). The name per
    /// RFC 6266 with `filename*`.
    static func handle(_ context: RequestContext) throws -> Response {
        let file = try context.ownedFile()
        let accounts = try context.stores.storageAccounts.list(userID: file.userID)
        switch StorageRules.downloadDecision(fileOwnerID: file.userID, requesterID: context.user!.id, fileAccountID: file.storageAccountID ?? -1,
                                             accounts: accounts.map { StorageRules.Account(id: $0.id, provider: $0.provider, status: $0.status) }) {
        case .notFound: throw HTTPError(.notFound, code: "not_found", "There is no such file.")
        case .unavailable(let message): throw HTTPError(.conflict, code: "file_unavailable", message)
        case .allow(let accountID):
            guard let fileID = file.providerFileID, file.status == FileUploadStatus.uploaded.rawValue, let account = accounts.first(where: { $0.id == accountID }) else {
                throw HTTPError(.conflict, code: "file_unavailable", "This file did not finish uploading, so there is nothing to download.")
            }
            try context.stores.storageAccounts.recordAccess(id: accountID)
            var response = Response(status: .ok)
            response.headers.set("content-type", file.contentType ?? "application/octet-stream")
            response.headers.set("content-disposition", contentDisposition(file.fileName))
            response.headers.set("cache-control", "private, no-store")
            if account.provider == .local {
                guard LocalDiskStorage(root: "/").resolve(fileID) != nil else { throw HTTPError(.notFound, code: "not_found", "There is no such file.") }
                response.headers.set("x-accel-redirect", "/_files/\(accountID)/" + fileID.split(separator: "/").map { URLEncodedForm.encode(String($0)) }.joined(separator: "/"))
                return response
            }
            let storageName = account.provider.displayName
            let provider: StorageProvider
            let size: Int64?
            do {
                provider = try context.services.storageProvider(for: account)
                size = try provider.size(fileID: fileID)
            } catch let error as StorageProviderError {
                throw HTTPError(HTTPStatus(502, "Bad Gateway"), code: "storage_failed", "\(storageName) could not be reached for this file: \(error.message)")
            }
            guard let size else {
                throw HTTPError(.notFound, code: "gone_from_storage", "The file is no longer in \(storageName): it was deleted or moved to the bin there.")
            }
            response.headers.set("content-length", String(size))
            // Headers are sent before the first byte; a failure after that can only cut the
            // transfer short, which the browser reports (the length is declared).
            response.body = .stream { writer in
                try provider.download(fileID: fileID, length: size) { try writer.write($0) }
            }
            return response
        }
    }

    /// `attachment; filename="ascii"; filename*=UTF-8''percent-encoded` (RFC 6266 §4.3), of the
    /// name made safe again (files recorded before names were cleaned may carry a path).
    static func contentDisposition(_ raw: String) -> String {
        let name = ClientFileName.clean(raw)
        let ascii = String(name.unicodeScalars.map { $0.isASCII && $0.value >= 0x20 && $0 != "\"" && $0 != "\\" ? Character($0) : "_" })
        return "attachment; filename=\"\(ascii)\"; filename*=UTF-8''\(URLEncodedForm.encode(name))"
    }
}
