import Intake
import Web

/// `POST /dashboard/files/delete-selected` (the confirmation's button): each selected file
/// deleted as the single delete does it (from its storage, then here; audited), back to the
/// list with what was deleted and what was kept and why.
enum FileBulkDelete {
    static func handle(_ context: RequestContext) throws -> Response {
        try FileSelectionForm.handle(context) { files in
            var deleted = 0
            var kept: [String] = []
            for file in files {
                do {
                    _ = try FileRemoval.delete(context, file)
                    deleted += 1
                } catch let error as HTTPError {
                    kept.append("“\(file.fileName)”: \(error.publicMessage)")
                }
            }
            let done = deleted == 1 ? "1 file was deleted." : "\(deleted) files were deleted."
            if kept.isEmpty {
                context.flash(.success, done)
            } else {
                context.flash(.error, (deleted > 0 ? done + " " : "") + "Kept \(FileZipDownload.listed(kept))")
            }
            return .redirect(to: FileListReturn.path(context.formFields["return_to"]))
        }
    }
}
