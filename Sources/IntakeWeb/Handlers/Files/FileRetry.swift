import Intake
import Web

/// `POST /dashboard/files/:id/retry`: a failed delivery back in line (its bytes are kept).
enum FileRetry {
    static func handle(_ context: RequestContext) throws -> Response {
        let file = try context.ownedFile()
        if try Deliveries(env: context.services.uploadEnvironment()).retry(file.id) {
            context.flash(.success, "“\(file.fileName)” will be delivered again in a moment.")
        } else {
            context.flash(.error, "“\(file.fileName)” cannot be delivered again: it is not a failed delivery, or its bytes are gone.")
        }
        return .redirect(to: FileListReturn.path(context.formFields["return_to"]))
    }
}
