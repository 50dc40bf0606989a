import Integrations
import Intake
import Web

/// `GET /api/uploads/:id/download`: the file's bytes for its owner, while its storage account
/// allows it (ACTIVE or INACTIVE; otherwise 409 `file_unavailable`).
enum FileDownload {
    /// Local files through nginx (`X-Accel-Redirect`), so the
    /// worker thread is free at once; Drive and Dropbox files streamed from the provider (its size
    /// asked first, so a file gone from there is a clear 404 and the length is known). The name per
    /// RFC 6266 with `filename*`; `nosniff` and a sandboxing CSP, so no file runs as a page here.
    static func handle(_ context: RequestContext) throws -> Response {
        let file = try context.ownedFile()
        let access = try StoredFileAccess(context, file, accounts: try context.stores.storageAccounts.list(userID: file.userID))
        try context.stores.storageAccounts.recordAccess(id: access.account.id)
        var response = Response(status: .ok)
        DownloadHeaders.set(&response, contentType: file.contentType ?? "application/octet-stream", disposition: contentDisposition(file.fileName))
        if access.isLocal {
            response.headers.set("x-accel-redirect", access.accelPath)
            return response
        }
        let provider = try access.provider(context)
        let size = try access.size(at: provider)
        response.headers.set("content-length", String(size))
        // Headers are sent before the first byte; a failure after that can only cut the
        // transfer short, which the browser reports (the length is declared).
        response.body = .stream { writer in
            try provider.download(fileID: access.fileID, length: size) { try writer.write($0) }
        }
        return response
    }

    /// `attachment; filename="ascii"; filename*=UTF-8''percent-encoded` (RFC 6266 §4.3), of the
    /// name made safe again (files recorded before names were cleaned may carry a path).
    static func contentDisposition(_ raw: String, type: String = "attachment") -> String {
        let name = ClientFileName.clean(raw)
        let ascii = String(name.unicodeScalars.map { $0.isASCII && $0.value >= 0x20 && $0 != "\"" && $0 != "\\" ? Character($0) : "_" })
        return "\(type); filename=\"\(ascii)\"; filename*=UTF-8''\(URLEncodedForm.encode(name))"
    }
}
