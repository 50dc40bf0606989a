import Intake
import Web

extension PortalForm {
    /// What a JSON portal body asks for: the input, the `isActive` switch if sent, and the errors.
    struct JSONRequest {
        var input: PortalInput
        var active: Bool?
        var errors: FieldErrors
    }

    /// The store's errors named as the JSON body names its fields (`max_files` → `maxFiles`), so a
    /// 422 points at what the client sent; `form` (the portal as a whole) and names the body
    /// shares with the form stay as they are.
    static func jsonErrors(_ errors: FieldErrors) -> FieldErrors {
        var renamed = FieldErrors()
        for (field, message) in errors.messages { renamed[jsonFieldNames[field] ?? field] = message }
        return renamed
    }

    /// The store's (the form's) field names that the JSON body spells otherwise.
    static let jsonFieldNames = ["max_file": "maxFileSize", "allowed_types": "allowedTypes", "max_files": "maxFiles",
                                 "storage_account_id": "storageAccountId", "accent_color": "accentColor",
                                 "backup_storage_account_id": "backupStorageAccountId"]

    /// A JSON portal body over `existing` (or the defaults): `name`, `slug`, `description`,
    /// `storageAccountId` or `storageProvider` (the owner's one active account of it; with
    /// several, an error listing them), `backupStorageAccountId` (null: none), `password`,
    /// `maxFileSize`, `allowedTypes` (extensions), `allowedFamilies` (documents, images, video,
    /// audio, archives), `accentColor`, `maxFiles`, `requireClientName`, `requireClientEmail` (or
    /// `clientNameMode`/`clientEmailMode`: required, optional, hidden), `messageField`,
    /// `folderName`, `clientSubfolders`, `isActive`. Any other field is an error naming it.
    static func parseJSON(_ context: RequestContext, existing: Portal?) throws -> JSONRequest {
        var body = JSONFields(try JSONBody.object(context))
        var input = PortalInput(name: body.string("name") ?? existing?.name ?? "", slug: (body.string("slug") ?? existing?.slug ?? "").lowercased())
        input.description = body.string("description") ?? existing?.description ?? ""
        input.storageAccountID = body.id("storageAccountId") ?? existing?.storageAccountID
        input.backupStorageAccountID = body.has("backupStorageAccountId") ? body.id("backupStorageAccountId") : existing?.backupStorageAccountID
        let provider = body.string("storageProvider")
        input.password = body.string("password")
        input.maxFileBytes = body.has("maxFileSize") ? body.int("maxFileSize") : existing?.maxFileBytes
        input.allowedExtensions = Set(body.strings("allowedTypes") ?? existing.map { Array($0.allowedExtensions) } ?? [])
        if let families = body.strings("allowedFamilies") {
            input.allowedFamilies = Set(families.compactMap(FileTypes.Family.init))
            if let unknown = families.first(where: { FileTypes.Family(rawValue: $0) == nil }) {
                body.errorsAppend("allowedFamilies", "“\(unknown)” is not a family: use documents, images, video, audio or archives.")
            }
        } else {
            input.allowedFamilies = existing?.allowedFamilies ?? []
        }
        input.accentColor = body.has("accentColor") ? (body.string("accentColor") ?? "") : (existing?.accentColor ?? "")
        input.maxFiles = body.int("maxFiles").map { Int(clamping: $0) } ?? existing?.maxFiles ?? 20
        input.folderName = body.string("folderName") ?? existing?.folderName ?? ""
        input.clientSubfolders = body.bool("clientSubfolders") ?? existing?.clientSubfolders ?? false
        input.messageField = body.bool("messageField") ?? existing?.messageField ?? true
        if body.has("notifications") {
            let text = body.string("notifications")
            input.notifications = text.flatMap(NotificationMode.init)
            if text != nil, input.notifications == nil { body.errorsAppend("notifications", "Must be each, daily, none or null (as in the account).") }
        } else {
            input.notifications = existing?.notifications
        }
        func mode(_ flag: String, _ named: String, _ current: FieldMode?, _ fallback: FieldMode) -> FieldMode {
            if let text = body.string(named) {
                guard let mode = FieldMode(rawValue: text) else { body.errorsAppend(named, "Must be required, optional or hidden."); return fallback }
                return mode
            }
            if let required = body.bool(flag) { return required ? .required : .optional }
            return current ?? fallback
        }
        input.clientNameMode = mode("requireClientName", "clientNameMode", existing?.clientNameMode, .required)
        input.clientEmailMode = mode("requireClientEmail", "clientEmailMode", existing?.clientEmailMode, .optional)
        let active = body.bool("isActive")
        do { try body.finish() } catch let errors as FieldErrors { return JSONRequest(input: input, active: active, errors: errors) }
        var errors = FieldErrors()
        if let provider {
            guard let kind = StorageProviderKind(rawValue: provider) else {
                errors["storageProvider"] = "Must be google_drive, dropbox or local."
                return JSONRequest(input: input, active: active, errors: errors)
            }
            let owned = try context.ownStorageAccounts()
            if body.has("storageAccountId") {
                if let chosen = owned.first(where: { $0.id == input.storageAccountID }), chosen.provider != kind {
                    errors["storageProvider"] = "The chosen storage account is of another kind."
                }
            } else if existing?.storageAccountID == nil || owned.first(where: { $0.id == existing?.storageAccountID })?.provider != kind {
                let active = owned.filter { $0.provider == kind && $0.status == .active }
                if active.count > 1 {
                    errors["storageProvider"] = "You have \(active.count) active \(kind.rawValue) accounts; send storageAccountId: "
                        + StorageAccountCandidates.described(active) + "."
                } else {
                    switch StorageRules.portalBinding(provider: kind, selectedAccountID: nil, accounts: owned.map(StorageRules.Account.init)) {
                    case .success(let id): input.storageAccountID = id
                    case .failure(let e): errors["storageProvider"] = e.description
                    }
                }
            }
        }
        return JSONRequest(input: input, active: active, errors: errors)
    }
}
