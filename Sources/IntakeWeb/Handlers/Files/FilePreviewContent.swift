import Integrations
import Intake
import Web

/// `GET /dashboard/files/:id/inline`: an image or PDF of the owner's, inline, for the preview page
/// — only when its first bytes are the format's signature, served as that format (never the
/// type the client sent), with `nosniff` and a sandboxing CSP that lets nothing run. Any other
/// file goes to its download (an attachment).
enum FilePreviewContent {
    static func handle(_ context: RequestContext) throws -> Response {
        let file = try context.ownedFile()
        let access = try StoredFileAccess(context, file, accounts: try context.stores.storageAccounts.list(userID: file.userID))
        let provider = try access.provider(context)
        guard let kind = try recognised(access, provider) else {
            return .redirect(to: "/api/uploads/\(file.id)/download")
        }
        try context.stores.storageAccounts.recordAccess(id: access.account.id)
        var response = Response(status: .ok)
        DownloadHeaders.set(&response, contentType: kind.mediaType, disposition: FileDownload.contentDisposition(file.fileName, type: "inline"),
                            policy: DownloadHeaders.previewPolicy)
        if access.isLocal {
            response.headers.set("x-accel-redirect", access.accelPath)
            return response
        }
        let size = try access.size(at: provider)
        response.headers.set("content-length", String(size))
        response.body = .stream { writer in
            try provider.download(fileID: access.fileID, length: size) { try writer.write($0) }
        }
        return response
    }

    /// The preview kind the file's name or type claims, if its first bytes confirm it.
    static func recognised(_ access: StoredFileAccess, _ provider: StorageProvider) throws -> PreviewKind? {
        guard let claimed = PreviewKind.candidate(fileName: access.file.fileName, contentType: access.file.contentType),
              access.file.size >= PreviewKind.headLength else { return nil }
        var head: [UInt8] = []
        do {
            try provider.download(fileID: access.fileID, length: access.file.size) { piece in
                head += piece.prefix(PreviewKind.headLength - head.count)
                if head.count >= PreviewKind.headLength { throw EnoughRead() }
            }
        } catch is EnoughRead {
        } catch let error as StorageProviderError {
            throw HTTPError(HTTPStatus(502, "Bad Gateway"), code: "storage_failed",
                            "\(access.account.provider.displayName) could not be reached for “\(access.file.fileName)”: \(error.message)")
        }
        return PreviewKind.recognise(head) == claimed ? claimed : nil
    }

    /// Stops a download once the signature's bytes are in.
    private struct EnoughRead: Error {}
}
