import Intake
import Templates
import Web

/// `GET /dashboard/files?portal=&account=&client=&q=&status=&from=&to=&before=`: the owner's
/// files, filtered, 50 to a page (newest first, `before` the next page's cursor).
enum FileList {
    static func handle(_ context: RequestContext) throws -> Response {
        let query = try context.request.query()
        let (files, next) = try context.stores.files.list(userID: context.user!.id, filter: try FileFilterForm.parse(query),
                                                          after: try FileFilterForm.cursor(query["before"]), limit: 50)
        let portals = try context.stores.portals.list(userID: context.user!.id)
        let accounts = try context.stores.storageAccounts.list(userID: context.user!.id)
        var nextLink: TemplateValue = .null
        if let next {
            let kept = query.filter { $0.name != "before" }.map { "\($0.name)=\(URLEncodedForm.encode($0.value))" }
            nextLink = .string("/dashboard/files?" + (kept + ["before=\(next)"]).joined(separator: "&"))
        }
        let here = "/dashboard/files" + (context.request.rawQuery.isEmpty ? "" : "?" + context.request.rawQuery)
        return try PageView.render(context, "dashboard/files", title: "Files", [
            "returnTo": .string(here), "files": .list(files.map(FileRow.value)), "hasFiles": .bool(!files.isEmpty), "next": nextLink,
            "selectionLimit": .int(Int64(FileSelectionForm.limit)),
            "filters": ["q": .string(query["q"] ?? ""), "client": .string(query["client"] ?? ""), "from": .string(query["from"] ?? ""),
                        "to": .string(query["to"] ?? "")],
            "statuses": .list(FileStatusView.filterOptions.map { s in
                ["value": .string(s.value), "label": .string(s.label), "selected": .bool((query["status"] ?? "") == s.value)]
            }),
            "accounts": .list(accounts.map { a in
                ["id": .int(a.id), "name": .string(a.provider.displayName + (a.email.map { " (\($0))" } ?? "")),
                 "selected": .bool(query["account"] == String(a.id))]
            }),
            "portals": .list(portals.map { p in
                ["id": .int(p.portal.id), "name": .string(p.portal.name), "selected": .bool(query["portal"] == String(p.portal.id))]
            }),
        ])
    }
}
