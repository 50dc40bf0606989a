import Intake
import Templates
import Web

/// `GET /admin/audit?action=&entity=&actor=&before=`: the audit log, newest first.
enum AdminAuditList {
    static func handle(_ context: RequestContext) throws -> Response {
        let query = try context.request.query()
        let action = query["action"].flatMap { $0.isEmpty ? nil : String($0.prefix(64)) }
        let entity = query["entity"].flatMap { $0.isEmpty ? nil : String($0.prefix(64)) }
        let actor = query["actor"].flatMap { $0.isEmpty ? nil : String($0.prefix(100)) }
        let before = query["before"].flatMap { Int64($0) }
        let (entries, more) = try context.stores.audit
            .entries(action: action, entityType: entity, actor: actor, before: before, limit: 50)
        var nextLink: TemplateValue = .null
        if more, let last = entries.last {
            var parts = ["before=\(last.id)"]
            if let action { parts.append("action=" + URLEncodedForm.encode(action)) }
            if let entity { parts.append("entity=" + URLEncodedForm.encode(entity)) }
            if let actor { parts.append("actor=" + URLEncodedForm.encode(actor)) }
            nextLink = .string("/admin/audit?" + parts.joined(separator: "&"))
        }
        return try PageView.render(context, "admin/audit", title: "Audit log", [
            "filters": ["action": .string(action ?? ""), "entity": .string(entity ?? ""), "actor": .string(actor ?? "")],
            "entries": .list(entries.map { e in
                ["id": .int(e.id), "when": .string(UTCDate.minute(e.createdAt)), "actor": .string(e.actorEmail ?? "—"),
                 "action": .string(e.action), "entity": .string(e.entityType + (e.entityID.map { " #\($0)" } ?? "")),
                 "before": e.before.map { .string($0) } ?? .null, "after": e.after.map { .string($0) } ?? .null,
                 "address": .string(e.remoteAddress)]
            }),
            "hasEntries": .bool(!entries.isEmpty),
            "next": nextLink,
        ])
    }
}
