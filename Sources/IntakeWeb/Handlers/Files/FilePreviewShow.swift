import Intake
import Web

/// `GET /dashboard/files/:id/preview`: the preview page of an image (`<img>`) or a PDF (a
/// frame), with the file's details and its download; any other file is offered for download
/// only. The PDF's frame is sandboxed by its response's CSP (`sandbox`), not by the frame's
/// `sandbox` attribute: Chromium shows a PDF under the first and refuses it under the second
/// (tried with Debian's Chromium: a frame with the attribute shows only an error icon).
enum FilePreviewShow {
    static func handle(_ context: RequestContext) throws -> Response {
        let file = try context.ownedFile()
        let kind = PreviewKind.candidate(fileName: file.fileName, contentType: file.contentType)
        let accounts = try context.stores.storageAccounts.list(userID: file.userID)
        let unavailable = StoredFileAccess.unavailability(file, accounts: accounts)
        return try PageView.render(context, "dashboard/file_preview", title: "Preview of \(file.fileName)", [
            "id": .int(file.id), "name": .string(file.fileName), "size": .string(ByteSize(bytes: file.size).description),
            "portal": .string(file.portalName), "client": .string(file.clientName ?? file.clientEmail ?? "—"),
            "iso": .string(UTCDate.iso(file.createdAt)), "date": .string(UTCDate.minute(file.createdAt)),
            "image": .bool(unavailable == nil && kind?.isImage == true), "pdf": .bool(unavailable == nil && kind == .pdf),
            "noPreview": .bool(unavailable == nil && kind == nil),
            "unavailable": unavailable.map { .string("This file cannot be opened now: \($0).") } ?? .null,
        ])
    }
}
