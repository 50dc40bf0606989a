import Intake
import Web

/// `POST /admin/diagnostics/cleanup/reconcile` (`owner`, and `repair=1` to repair): one owner's
/// storage compared with the providers, as `intake reconcile --user` does — the report on the
/// clean-up page, with a Repair button; a repair (audited by the reconciliation, as done by this
/// admin) answers with a flash and the report of what it did. One owner, of at most `fileLimit`
/// delivered files, per request keeps a request's work bounded; the rest is `intake reconcile`'s job.
enum AdminDiagnosticsReconcile {
    /// Owners with more delivered files than this are compared by the command, not in a request.
    static let fileLimit: Int64 = 5_000

    static func handle(_ context: RequestContext) throws -> Response {
        let form = context.formFields
        let email = (form["owner"] ?? "").trimmingSpaces()
        var errors = FieldErrors()
        guard !email.isEmpty, email.count <= 254, let owner = try context.stores.users.findForSignIn(email: email)?.user else {
            errors["owner"] = email.isEmpty ? "Type the owner's e-mail address." : "No account has this e-mail address."
            return try FormAnswer.invalid(context, errors) { try AdminDiagnosticsCleanup.render(context, reconciliation: nil, errors: errors, owner: email) }
        }
        let files = try context.stores.storageAccounts.list(userID: owner.id).reduce(0) { $0 + $1.uploadedFiles }
        guard files <= Self.fileLimit else {
            errors["owner"] = "\(owner.email) has \(files) files: compare them with `intake reconcile --user \(owner.email)`, which no request's time limit cuts short."
            return try FormAnswer.invalid(context, errors) { try AdminDiagnosticsCleanup.render(context, reconciliation: nil, errors: errors, owner: email) }
        }
        let reconciliation = Reconciliation(db: context.services.database, clock: context.services.clock,
                                            provider: { try context.services.storageProvider(for: $0) })
        let repair = form["repair"] == "1"
        let report = repair ? try reconciliation.repair(userID: owner.id, by: context.actor) : try reconciliation.report(userID: owner.id)
        if repair {
            context.flash(report.consistent ? .success : .error, report.consistent
                          ? "Repaired \(report.found) finding(s) for \(owner.email)."
                          : "\(report.unresolved) finding(s) could not be repaired and \(report.unchecked) account(s) could not be checked; see below.")
        }
        return try AdminDiagnosticsCleanup.render(context, reconciliation: ReconciliationView.value(report, owner: owner.email), errors: FieldErrors(), owner: owner.email)
    }
}
