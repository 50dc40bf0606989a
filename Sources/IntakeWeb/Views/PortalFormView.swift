import Intake
import Templates

/// The portal form (new and edit) as the template shows it: the values as posted after an error,
/// or as the portal has them, or the defaults of a new portal; every select and box in its state.
enum PortalFormView {
    /// A portal's settings as the form's fields.
    static func values(of p: Portal) -> [String: String] {
        var values = ["name": p.name, "slug": p.slug, "storage_account_id": p.storageAccountID.map(String.init) ?? "",
                      "backup_storage_account_id": p.backupStorageAccountID.map(String.init) ?? "", "folder_name": p.folderName,
                      "allowed_types": p.allowedExtensions.sorted().joined(separator: ", "), "max_files": String(p.maxFiles),
                      "client_name_mode": p.clientNameMode.rawValue, "client_email_mode": p.clientEmailMode.rawValue, "description": p.description]
        if p.messageField { values["message_field"] = "1" }
        if p.clientSubfolders { values["client_subfolders"] = "1" }
        values["upload_notifications"] = p.notifications?.rawValue ?? ""
        values["accent_color"] = p.accentColor ?? ""
        values["allowed_families"] = p.allowedFamilies.sorted().map(\.rawValue).joined(separator: ",")
        if let bytes = p.maxFileBytes {
            let shown = ByteSize(bytes: bytes).display()
            values["max_file_number"] = shown.number
            values["max_file_unit"] = shown.unit.rawValue
        }
        return values
    }

    /// The defaults of a new portal.
    static let newPortal: [String: String] = ["max_files": "20", "message_field": "1", "client_name_mode": "required", "client_email_mode": "optional"]

    /// The template's data. `accounts` offers the owner's active accounts, and the portal's own
    /// account (and its backup) whatever its state (so saving the form never changes it unasked).
    static func model(values: [String: String], accounts: [StorageAccount], currentAccountID: Int64?, currentBackupID: Int64? = nil,
                      hasPassword: Bool, errors: FieldErrors) -> [String: TemplateValue] {
        let families = Set((values["allowed_families"] ?? "").split(separator: ",").map(String.init))
        func modes(_ field: String, _ order: [FieldMode]) -> TemplateValue {
            let labels: [FieldMode: String] = [.required: "Required", .optional: "Optional", .hidden: "Not asked"]
            return .list(order.map { m in ["value": .string(m.rawValue), "label": .string(labels[m]!), "selected": .bool(values[field] == m.rawValue)] })
        }
        let offered = accounts.filter { $0.status == .active || $0.id == currentAccountID }
        let backups = accounts.filter { $0.status == .active || $0.id == currentBackupID }
        func choices(_ list: [StorageAccount], field: String) -> TemplateValue {
            .list(list.map { a in
                ["id": .int(a.id), "name": .string(a.displayName + (a.email.map { a.displayName.contains($0) ? "" : " · " + $0 } ?? "")),
                 "state": a.status == .active ? .null : .string(a.status.rawValue.lowercased()),
                 "selected": .bool(values[field] == String(a.id))]
            })
        }
        var shown = values
        shown.removeValue(forKey: "password")
        return [
            "values": .map(shown.mapValues(TemplateValue.string)),
            "accounts": choices(offered, field: "storage_account_id"),
            "hasAccounts": .bool(!offered.isEmpty),
            "backups": choices(backups, field: "backup_storage_account_id"),
            "noBackup": .bool((values["backup_storage_account_id"] ?? "").isEmpty),
            "canHaveBackup": .bool(accounts.count > 1),
            "maxFile": FormFieldView.size("max_file", number: values["max_file_number"] ?? "", unit: values["max_file_unit"] ?? "GB"),
            "nameModes": modes("client_name_mode", [.required, .optional, .hidden]),
            "emailModes": modes("client_email_mode", [.optional, .required, .hidden]),
            "messageField": .bool(values["message_field"] != nil), "clientSubfolders": .bool(values["client_subfolders"] != nil),
            "hasPassword": .bool(hasPassword),
            "families": .list(FileTypes.Family.allCases.map { f in
                ["value": .string(f.rawValue), "label": .string(f.label), "examples": .string(f.examples + ", …"), "checked": .bool(families.contains(f.rawValue))]
            }),
            "notifications": NotificationsView.options(selected: values["upload_notifications"] ?? "", inherit: "As in my account settings"),
            "errors": FormFieldView.errors(errors), "hasErrors": .bool(!errors.isEmpty),
        ]
    }
}
