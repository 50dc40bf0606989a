import Intake
import Templates
import Web

/// `GET /admin/audit?action=&entity=&by=&actor=&before=`: the audit log, newest first, as
/// sentences; filtered by what happened, to what, and by whom — people (admins and owners) or
/// Intake itself and clients (jobs, uploads).
enum AdminAuditList {
    static func handle(_ context: RequestContext) throws -> Response {
        let query = try context.request.query()
        let action = query["action"].flatMap { $0.isEmpty ? nil : String($0.prefix(64)) }
        let entity = query["entity"].flatMap { $0.isEmpty ? nil : String($0.prefix(64)) }
        let actor = query["actor"].flatMap { $0.isEmpty ? nil : String($0.prefix(100)) }
        let by = query["by"].flatMap { ["people", "system"].contains($0) ? $0 : nil }
        let before = query["before"].flatMap { Int64($0) }
        let (entries, more) = try context.stores.audit
            .entries(action: action, entityType: entity, actor: actor, byPeople: by.map { $0 == "people" }, before: before, limit: 50)
        var nextLink: TemplateValue = .null
        if more, let last = entries.last {
            var parts = ["before=\(last.id)"]
            for (name, value) in [("action", action), ("entity", entity), ("by", by), ("actor", actor)] {
                if let value { parts.append(name + "=" + URLEncodedForm.encode(value)) }
            }
            nextLink = .string("/admin/audit?" + parts.joined(separator: "&"))
        }
        let areas = AuditEntryView.actions.reduce(into: [String]()) { if !$0.contains($1.area) { $0.append($1.area) } }
        return try PageView.render(context, "admin/audit", title: "Audit log", [
            "filters": ["actor": .string(actor ?? "")],
            "actionGroups": .list(areas.map { area in
                ["area": .string(area), "actions": .list(AuditEntryView.actions.filter { $0.area == area }.map { a in
                    ["code": .string(a.code), "label": .string(AuditEntryView.optionLabel(a)), "selected": .bool(a.code == action)]
                })]
            }),
            "things": .list(AuditEntryView.things.filter { $0.code != "file" }.map { thing in
                ["code": .string(thing.code), "label": .string(thing.name.prefix(1).uppercased() + thing.name.dropFirst() + "s"),
                 "selected": .bool(thing.code == entity)]
            }),
            "byChoices": .list([("", "Anyone"), ("people", "People (admins and owners)"), ("system", "Intake and clients (jobs, uploads)")].map { code, label in
                ["code": .string(code), "label": .string(label), "selected": .bool(code == (by ?? ""))]
            }),
            "entries": .list(entries.map(AuditEntryView.entry)),
            "hasEntries": .bool(!entries.isEmpty),
            "next": nextLink,
        ])
    }
}
