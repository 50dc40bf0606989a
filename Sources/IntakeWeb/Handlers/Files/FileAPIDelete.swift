import Intake
import Web

/// `DELETE /api/uploads/:id`: `{"success":true,"deletedFromCloud":…,"deletedFromDatabase":…}`.
enum FileAPIDelete {
    static func handle(_ context: RequestContext) throws -> Response {
        let file = try context.ownedFile()
        let result = try FileRemoval.delete(context, file)
        return .json(["success": true, "message": "File deleted successfully", "deletedFromCloud": .bool(result.deletedFromCloud),
                      "deletedFromDatabase": .bool(result.deletedFromDatabase)])
    }
}
