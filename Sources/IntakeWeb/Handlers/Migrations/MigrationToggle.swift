import Intake
import Web

/// `POST /dashboard/migrations/:id/toggle`: pauses a running migration (the file being copied
/// finishes; no other starts) or resumes a paused one.
enum MigrationToggle {
    static func handle(_ context: RequestContext) throws -> Response {
        let migration = try MigrationPage.owned(context)
        let pause = migration.status == .running
        guard migration.status != .finished,
              try context.stores.migrations.setPaused(id: migration.id, userID: context.user!.id, paused: pause, by: context.actor) else {
            throw HTTPError(.conflict, code: "finished", "This migration is finished: there is nothing to pause or resume.")
        }
        return FormAnswer.saved(context, pause ? "Paused: no further file is started until you resume." : "Resumed.",
                                redirect: "/dashboard/migrations/\(migration.id)")
    }
}
