import Intake
import Web

/// `POST /dashboard/migrations` (`what`, `destination`, `keep`): starts moving the files and
/// answers with the migration's progress page; a refusal shows the Storage page again (422) with
/// the form's values and why.
enum MigrationCreate {
    static func handle(_ context: RequestContext) throws -> Response {
        var form = MigrationForm(context.formFields)
        if let scope = form.scope, let destination = form.destination {
            switch try context.stores.migrations.start(userID: context.user!.id, scope: scope, destination: destination, keepSource: form.keepSource,
                                                       by: context.actor) {
            case .success(let started):
                let files = Counted.text(started.migration.totalFiles, "file")
                let leftOut = started.leftOut > 0
                    ? " \(Counted.text(started.leftOut, "other file")) cannot move now (their storage cannot be read, or they are being moved already)." : ""
                return FormAnswer.saved(context, "Moving \(files): each is copied and checked before it moves.\(leftOut)",
                                        redirect: "/dashboard/migrations/\(started.migration.id)")
            case .failure(let refusal):
                form.errors["what"] = refusal.message
            }
        }
        let errors = form.errors
        return try FormAnswer.invalid(context, errors) {
            try StorageSettingsShow.page(context, moveForm: FormState(values: form.values, errors: errors.messages), status: .unprocessableContent)
        }
    }
}
