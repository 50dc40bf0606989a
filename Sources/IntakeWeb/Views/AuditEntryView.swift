import Intake
import Templates

/// The audit log as sentences: who (a person, a client, or Intake itself) did what to which
/// thing, and each changed value as "field: before → after" in words people read (sizes in the
/// one size format, moments as dates, yes/no) instead of JSON.
enum AuditEntryView {
    /// What each action is called, as a verb phrase and its area; the filter's choices. An action
    /// recorded before this list knew it reads as its code.
    struct Action {
        let code: String
        let phrase: String
        let area: String
        /// Who did it when no signed-in person did: a client (an upload) or Intake (a job).
        let withoutPerson: String
    }

    static let actions: [Action] = [
        Action(code: "upload.received", phrase: "uploaded", area: "Uploads", withoutPerson: "A client"),
        Action(code: "upload.refused", phrase: "had an upload refused on", area: "Uploads", withoutPerson: "A client"),
        Action(code: "upload.infected", phrase: "had an infected file refused on", area: "Uploads", withoutPerson: "A client"),
        Action(code: "upload.delivered", phrase: "delivered to storage", area: "Uploads", withoutPerson: "Intake"),
        Action(code: "upload.delivery_failed", phrase: "could not deliver to storage", area: "Uploads", withoutPerson: "Intake"),
        Action(code: "file_upload.delete", phrase: "deleted", area: "Files", withoutPerson: "Intake"),
        Action(code: "file_upload.missing_at_provider", phrase: "found missing from storage", area: "Files", withoutPerson: "Intake"),
        Action(code: "file_upload.found_at_provider", phrase: "found in storage again", area: "Files", withoutPerson: "Intake"),
        Action(code: "file.storage_bound", phrase: "bound to a storage account", area: "Files", withoutPerson: "Intake"),
        Action(code: "file.migrated", phrase: "moved to another storage account, checked,", area: "Files", withoutPerson: "Intake"),
        Action(code: "file.migration_failed", phrase: "could not move to another storage account", area: "Files", withoutPerson: "Intake"),
        Action(code: "storage_migration.started", phrase: "started", area: "Storage", withoutPerson: "Intake"),
        Action(code: "storage_migration.paused", phrase: "paused", area: "Storage", withoutPerson: "Intake"),
        Action(code: "storage_migration.resumed", phrase: "resumed", area: "Storage", withoutPerson: "Intake"),
        Action(code: "storage_migration.retried", phrase: "tried the failed files of", area: "Storage", withoutPerson: "Intake"),
        Action(code: "portal.create", phrase: "created", area: "Portals", withoutPerson: "Intake"),
        Action(code: "portal.update", phrase: "changed", area: "Portals", withoutPerson: "Intake"),
        Action(code: "portal.delete", phrase: "deleted", area: "Portals", withoutPerson: "Intake"),
        Action(code: "portal.activate", phrase: "switched on", area: "Portals", withoutPerson: "Intake"),
        Action(code: "portal.deactivate", phrase: "switched off", area: "Portals", withoutPerson: "Intake"),
        Action(code: "portal.storage_bound", phrase: "bound to a storage account", area: "Portals", withoutPerson: "Intake"),
        Action(code: "portal.logo", phrase: "set the logo of", area: "Portals", withoutPerson: "Intake"),
        Action(code: "portal.logo.remove", phrase: "removed the logo of", area: "Portals", withoutPerson: "Intake"),
        Action(code: "storage_account.create", phrase: "connected", area: "Storage", withoutPerson: "Intake"),
        Action(code: "storage_account.status", phrase: "changed the state of", area: "Storage", withoutPerson: "Intake"),
        Action(code: "storage.orphan_quarantined", phrase: "moved a file no row names to quarantine in", area: "Storage", withoutPerson: "Intake"),
        Action(code: "storage.counters_recomputed", phrase: "recounted the files of", area: "Storage", withoutPerson: "Intake"),
        Action(code: "counts.rebuilt", phrase: "rebuilt from the files every count kept of the", area: "Storage", withoutPerson: "Intake"),
        Action(code: "oauth_account.removed", phrase: "removed", area: "Storage", withoutPerson: "Intake"),
        Action(code: "oauth_account.tokens_forgotten", phrase: "forgot the keys of", area: "Storage", withoutPerson: "Intake"),
        Action(code: "storage.purchase", phrase: "bought", area: "Money", withoutPerson: "Intake"),
        Action(code: "storage.purchase_expired", phrase: "expired", area: "Money", withoutPerson: "Intake"),
        Action(code: "balance.credit", phrase: "credited the balance of", area: "Money", withoutPerson: "Intake"),
        Action(code: "balance.debit", phrase: "debited the balance of", area: "Money", withoutPerson: "Intake"),
        Action(code: "plan.renewal_charged", phrase: "charged the plan renewal of", area: "Money", withoutPerson: "Intake"),
        Action(code: "plan.renewal_paid", phrase: "was paid the overdue plan renewal of", area: "Money", withoutPerson: "Intake"),
        Action(code: "plan.renewal_failed", phrase: "could not charge the plan renewal of", area: "Money", withoutPerson: "Intake"),
        Action(code: "plan.lapsed", phrase: "ended the unpaid plan of", area: "Money", withoutPerson: "Intake"),
        Action(code: "quota.exceeded", phrase: "found over quota", area: "Money", withoutPerson: "Intake"),
        Action(code: "storage_pricing.save", phrase: "saved", area: "Settings", withoutPerson: "Intake"),
        Action(code: "tariff_plan.create", phrase: "created", area: "Settings", withoutPerson: "Intake"),
        Action(code: "tariff_plan.update", phrase: "changed", area: "Settings", withoutPerson: "Intake"),
        Action(code: "tariff_plan.archive", phrase: "archived", area: "Settings", withoutPerson: "Intake"),
        Action(code: "tariff_plan.delete", phrase: "deleted", area: "Settings", withoutPerson: "Intake"),
        Action(code: "user.plan_assign", phrase: "changed the plan of", area: "People", withoutPerson: "Intake"),
        Action(code: "user.quota_override_set", phrase: "set a quota for", area: "People", withoutPerson: "Intake"),
        Action(code: "user.quota_override_clear", phrase: "cleared the quota set for", area: "People", withoutPerson: "Intake"),
        Action(code: "user.notifications", phrase: "changed the mail settings of", area: "People", withoutPerson: "Intake"),
        Action(code: "user.usage_recomputed", phrase: "recounted the storage used by", area: "People", withoutPerson: "Intake"),
        Action(code: "api_token.create", phrase: "created", area: "People", withoutPerson: "Intake"),
        Action(code: "api_token.revoke", phrase: "revoked", area: "People", withoutPerson: "Intake"),
        Action(code: "diagnostics.cleanup", phrase: "cleaned up", area: "Settings", withoutPerson: "Intake"),
        Action(code: "webhook_endpoint.create", phrase: "added", area: "Webhooks", withoutPerson: "Intake"),
        Action(code: "webhook_endpoint.enable", phrase: "switched on", area: "Webhooks", withoutPerson: "Intake"),
        Action(code: "webhook_endpoint.disable", phrase: "switched off", area: "Webhooks", withoutPerson: "Intake"),
        Action(code: "webhook_endpoint.rotate_secret", phrase: "gave a new secret to", area: "Webhooks", withoutPerson: "Intake"),
        Action(code: "webhook_endpoint.delete", phrase: "deleted", area: "Webhooks", withoutPerson: "Intake"),
        Action(code: "webhook_delivery.send_again", phrase: "sent again", area: "Webhooks", withoutPerson: "Intake"),
    ]
    static let byCode = Dictionary(uniqueKeysWithValues: actions.map { ($0.code, $0) })

    /// Entity types in words, for the sentence and the filter.
    static let things: [(code: String, name: String)] = [
        ("file_upload", "file"), ("file", "file"), ("portal", "portal"), ("storage_account", "storage account"),
        ("oauth_account", "sign-in account"), ("storage_purchase", "storage purchase"), ("storage_pricing", "storage pricing"),
        ("tariff_plan", "tariff plan"), ("user", "user"), ("api_token", "API token"), ("webhook_endpoint", "webhook endpoint"), ("webhook_delivery", "webhook delivery"),
        ("storage_migration", "move of files"), ("site", "site"),
    ]
    static let thingNames = Dictionary(things.map { ($0.code, $0.name) }, uniquingKeysWith: { first, _ in first })

    /// The filter's words for an action: "Portals: changed".
    static func optionLabel(_ action: Action) -> String {
        let thing = things.first { action.code.hasPrefix($0.code + ".") }?.name
        let phrase = action.phrase.hasSuffix(" of") || action.phrase.hasSuffix(" for") || action.phrase.hasSuffix(" in") || action.phrase.hasSuffix(" on")
            ? action.phrase + " …" : action.phrase + (thing.map { " (\($0))" } ?? "")
        return phrase.prefix(1).uppercased() + phrase.dropFirst()
    }

    static func entry(_ e: AuditLog.Entry) -> TemplateValue {
        let action = byCode[e.action]
        let who = e.actorEmail ?? action?.withoutPerson ?? "Intake"
        let thing = (thingNames[e.entityType] ?? e.entityType.replacingOccurrences(of: "_", with: " ")) + (e.entityID.map { " #\($0)" } ?? "")
        let sentence = "\(who) \(action?.phrase ?? e.action) \(thing)."
        let changed = changes(before: e.before, after: e.after)
        return [
            "id": .int(e.id), "when": UTCDate.moment(e.createdAt), "sentence": .string(sentence), "code": .string(e.action),
            "byPerson": .bool(e.actorEmail != nil), "address": e.remoteAddress.isEmpty ? .null : .string(e.remoteAddress),
            "changes": .list(changed), "hasChanges": .bool(!changed.isEmpty),
        ]
    }

    /// Each field of before and after, once: `field: before → after` (a value only before: it was
    /// removed; only after: it was set).
    static func changes(before: String?, after: String?) -> [TemplateValue] {
        let old = AuditLog.values(before), new = AuditLog.values(after)
        var fields = old.map(\.0)
        for (field, _) in new where !fields.contains(field) { fields.append(field) }
        let oldValues = Dictionary(old, uniquingKeysWith: { a, _ in a }), newValues = Dictionary(new, uniquingKeysWith: { a, _ in a })
        return fields.compactMap { field in
            let was = oldValues[field].map { readable(field, $0) }, now = newValues[field].map { readable(field, $0) }
            if before != nil, after != nil, was == now { return nil }  // unchanged
            return ["field": .string(label(field)), "before": was.map(TemplateValue.string) ?? .null,
                    "after": now.map(TemplateValue.string) ?? .null, "both": .bool(was != nil && now != nil)]
        }
    }

    /// `storage_account_id` → "storage account", `max_file_bytes` → "max file".
    static func label(_ field: String) -> String {
        var name = field
        for suffix in ["_bytes", "_minor", "_id", "_at"] where name.hasSuffix(suffix) && name.count > suffix.count {
            name.removeLast(suffix.count)
            break
        }
        return name.replacingOccurrences(of: "_", with: " ")
    }

    /// A value in words: sizes for `…bytes`, dates for `…_at`/`…since`, "none" for null.
    static func readable(_ field: String, _ value: String?) -> String {
        guard let value else { return "none" }
        if field.hasSuffix("bytes") || field == "size", let bytes = Int64(value) { return ByteSize(bytes: bytes).description }
        if field.hasSuffix("_at") || field.hasSuffix("_since"), let epoch = Int64(value) { return UTCDate.minute(epoch) }
        return value.isEmpty ? "empty" : value
    }
}
