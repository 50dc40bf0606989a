import Intake
import Web

/// `GET /api/uploads/:id`: one file, in the shape of the list's entries.
enum FileAPIShow {
    static func handle(_ context: RequestContext) throws -> Response {
        .json(FileJSON.value(try context.ownedFile()))
    }
}
