import Intake
import Web

/// `POST /dashboard/files/:id/delete`: the file deleted, back to the list it was sent from.
enum FileDelete {
    static func handle(_ context: RequestContext) throws -> Response {
        let file = try context.ownedFile()
        _ = try FileRemoval.delete(context, file)
        context.flash(.success, "“\(file.fileName)” was deleted.")
        return .redirect(to: FileListReturn.path(context.formFields["return_to"]))
    }
}
