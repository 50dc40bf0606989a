import Intake
import Web

/// `GET /dashboard/migrations/:id`: one migration's progress — files and bytes moved of all,
/// the files that could not move and why, Pause/Resume and "Try them again". While it runs the
/// page asks the browser to load it again every five seconds (`Refresh`, no script needed).
enum MigrationShow {
    static func handle(_ context: RequestContext) throws -> Response {
        try MigrationPage.show(context, migration: try MigrationPage.owned(context))
    }
}
