import Intake
import Templates
import Web

/// `GET /admin/diagnostics/portal?owner=EMAIL`: for one owner, what creating a portal of each
/// kind would bind to (`validatePortalCreationWithStorage`) and whether each of their portals
/// takes uploads and why (`getPortalUploadAcceptance`), with the rest of the owner's diagnosis —
/// all without creating anything or asking a provider.
enum AdminDiagnosticsPortal {
    static func handle(_ context: RequestContext) throws -> Response {
        let owner = try context.request.query()["owner"].map { String($0.trimmingSpaces().prefix(254)) } ?? ""
        var values: [String: TemplateValue] = ["owner": .string(owner), "asked": .bool(!owner.isEmpty)]
        if !owner.isEmpty {
            if let user = try context.stores.users.findForSignIn(email: owner)?.user {
                let diagnostics = StorageDiagnostics(db: context.services.database, clock: context.services.clock)
                values["found"] = .bool(true)
                values["ownerName"] = .string(user.name)
                values["creation"] = .list(try diagnostics.portalCreation(userID: user.id).map { kind, binding in
                    switch binding {
                    case .success(let id): return ["provider": .string(kind.displayName), "ok": true, "answer": .string("would bind to storage account #\(id)")]
                    case .failure(let error): return ["provider": .string(kind.displayName), "ok": false, "answer": .string(error.description)]
                    }
                })
                // Offline and without recomputing the usage counters (the clean-up page compares those).
                values["diagnosis"] = DiagnosisView.value(try diagnostics.diagnose(user: user, grants: nil, counters: false))
            } else {
                values["found"] = .bool(false)
            }
        }
        return try PageView.render(context, "admin/diagnostics/portal", title: "Portal check · Diagnostics", values)
    }
}
