import Intake
import Web

/// `POST /dashboard/files/delete` (the files page's “Delete selected”): changes nothing; the
/// one confirmation step, naming every file selected, whose button deletes them.
enum FileBulkDeleteConfirm {
    static func handle(_ context: RequestContext) throws -> Response {
        try FileSelectionForm.handle(context) { files in
            let bytes = files.reduce(Int64(0)) { $0 + $1.size }
            let count = Counted.text(files.count, "file")
            return try PageView.render(context, "dashboard/files_delete", title: "Delete \(count)", [
                "count": .string(count), "size": .string(ByteSize(bytes: bytes).description),
                "returnTo": .string(FileListReturn.path(context.formFields["return_to"])),
                "files": .list(files.map { ["id": .int($0.id), "name": .string($0.fileName), "size": .string(ByteSize(bytes: $0.size).description),
                                            "portal": .string($0.portalName)] }),
            ])
        }
    }
}
