import Intake
import Web

/// `POST /admin/diagnostics/storage/:id/check`: the storage health check of one account at once,
/// whatever its backoff (audited under the admin when it changes the account's state), then back
/// to the account on the storage diagnostics page with what the check found.
enum AdminDiagnosticsStorageCheck {
    static func handle(_ context: RequestContext) throws -> Response {
        let id = try context.pathID()
        let outcome: StorageHealthChecks.Outcome
        do {
            outcome = try context.services.storageHealthChecks.checkNow(accountID: id, by: context.actor)
        } catch let error as ValidationError {
            throw HTTPError(.notFound, code: "not_found", error.message)
        }
        let back = "/admin/diagnostics/storage#account-\(id)"
        switch outcome {
        case .healthy, .recovered:
            return FormAnswer.saved(context, "Storage account #\(id): \(outcome).", redirect: back)
        case .stillFailing, .disconnected, .notChecked:
            context.flash(.error, "Storage account #\(id): \(outcome).")
            return context.request.prefersJSON ? .json(["ok": false, "message": .string("\(outcome)"), "redirect": .string(back)]) : .redirect(to: back)
        }
    }
}
