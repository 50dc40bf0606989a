import Intake
import Templates
import Web

/// `GET /admin/diagnostics/storage?state=&owner=&before=`: every storage account, newest first,
/// with its owner, state, last error, recent state changes and a "Check now" button.
enum AdminDiagnosticsStorage {
    static let pageSize = 50

    static func handle(_ context: RequestContext) throws -> Response {
        let query = try context.request.query()
        let state = query["state"].flatMap { StorageAccountStatus(rawValue: $0) }
        let owner = query["owner"].flatMap { $0.isEmpty ? nil : String($0.prefix(100)) }
        let before = query["before"].flatMap { Int64($0) }
        let history = StorageAccountHistory(db: context.services.database, clock: context.services.clock)
        let (listed, more) = try history.page(status: state, owner: owner, before: before, limit: pageSize)
        let checks = context.services.storageHealthChecks
        let health: (Int64) throws -> String? = { id in try checks.schedule(accountID: id).flatMap(scheduleText) }
        var next: TemplateValue = .null
        if more, let last = listed.last {
            var parts = ["before=\(last.account.id)"]
            if let state { parts.append("state=\(state.rawValue)") }
            if let owner { parts.append("owner=" + URLEncodedForm.encode(owner)) }
            next = .string("/admin/diagnostics/storage?" + parts.joined(separator: "&"))
        }
        return try PageView.render(context, "admin/diagnostics/storage", title: "Storage accounts · Diagnostics", [
            "owner": .string(owner ?? ""),
            "states": .list([["value": "", "label": "Every state", "selected": .bool(state == nil)]] + StorageAccountStatus.allCases.map { s in
                ["value": .string(s.rawValue), "label": .string(s.plainWords.prefix(1).uppercased() + s.plainWords.dropFirst()), "selected": .bool(s == state)]
            }),
            "accounts": .list(try listed.map { try row($0, health: health) }),
            "hasAccounts": .bool(!listed.isEmpty),
            "next": next,
            "first": before == nil ? .null : .string("/admin/diagnostics/storage" + (state.map { "?state=\($0.rawValue)" } ?? "")),
        ])
    }

    /// The health checks' schedule in words, or nil when the account is not on it.
    static func scheduleText(_ schedule: StorageHealthChecks.Schedule) -> String? {
        var parts: [String] = []
        if let next = schedule.nextCheckAt { parts.append("next check \(UTCDate.minute(next))") }
        if schedule.failures > 0 { parts.append("\(Counted.text(schedule.failures, "failure")) in a row") }
        if let last = schedule.lastCheckedAt { parts.append("last checked \(UTCDate.minute(last))") }
        if schedule.incidentMailedAt != nil { parts.append("owner mailed") }
        return parts.isEmpty ? nil : parts.joined(separator: "; ")
    }

    static func row(_ listed: StorageAccountHistory.Listed, health: (Int64) throws -> String?) throws -> TemplateValue {
        let account = listed.account
        return [
            "id": .int(account.id),
            "name": .string(account.displayName),
            "provider": .string(account.provider.displayName),
            "owner": .string(listed.ownerEmail),
            "state": .string(account.status.plainWords),
            "trouble": .bool(account.status == .error || account.status == .disconnected),
            "lastError": account.lastError.map(TemplateValue.string) ?? .null,
            "lastUsed": listed.lastAccessedAt.map(UTCDate.moment) ?? .null,
            "files": .string("\(Counted.text(account.uploadedFiles, "file")), \(ByteSize(bytes: account.uploadedBytes))"),
            "health": try health(account.id).map(TemplateValue.string) ?? .null,
            "checkable": .bool(account.status == .active || account.status == .error),
            "changes": .list(listed.changes.map { change in
                ["at": UTCDate.moment(change.at), "from": .string(change.from), "to": .string(change.to), "event": .string(change.event),
                 "reason": change.reason.map(TemplateValue.string) ?? .null, "by": .string(change.by)]
            }),
            "hasChanges": .bool(!listed.changes.isEmpty),
        ]
    }
}
