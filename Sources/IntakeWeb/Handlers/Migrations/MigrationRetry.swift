import Intake
import Web

/// `POST /dashboard/migrations/:id/retry`: the files that could not move are tried again.
enum MigrationRetry {
    static func handle(_ context: RequestContext) throws -> Response {
        let migration = try MigrationPage.owned(context)
        let again = try context.stores.migrations.retryFailed(id: migration.id, userID: context.user!.id, by: context.actor)
        return FormAnswer.saved(context, again == 0 ? "No file is waiting to be tried again." : "Trying \(Counted.text(again, "file")) again.",
                                redirect: "/dashboard/migrations/\(migration.id)")
    }
}
