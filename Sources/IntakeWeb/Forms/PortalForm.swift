import Intake
import Web

/// The portal form (new and edit, urlencoded) read into the domain's `PortalInput`; sizes and
/// counts that do not parse are field errors.
enum PortalForm {
    /// The posted form as an input, with the errors of the fields that did not parse.
    static func parse(_ form: FormFields) -> (PortalInput, FieldErrors) {
        var errors = FieldErrors()
        var input = PortalInput(name: form["name"] ?? "", slug: (form["slug"] ?? "").lowercased())
        input.description = form["description"] ?? ""
        input.storageAccountID = form["storage_account_id"].flatMap { Int64($0) }
        input.backupStorageAccountID = form["backup_storage_account_id"].flatMap { Int64($0) }
        input.folderName = form["folder_name"] ?? ""
        input.clientSubfolders = form["client_subfolders"] != nil
        let password = form["password"] ?? ""
        // Empty: no password (new portal) or keep it (edit); "remove_password" clears it.
        input.password = form["remove_password"] != nil ? "" : (password.isEmpty ? nil : password)
        input.clientNameMode = FieldMode(rawValue: form["client_name_mode"] ?? "") ?? .required
        input.clientEmailMode = FieldMode(rawValue: form["client_email_mode"] ?? "") ?? .optional
        input.messageField = form["message_field"] != nil
        if let number = form["max_file_number"], !number.isEmpty {
            input.maxFileBytes = errors.capture("max_file") { try ByteSize.parse(number, unit: form["max_file_unit"] ?? "") }?.bytes
        }
        // The store checks and normalises each extension (and names a bad one).
        input.allowedExtensions = Set((form["allowed_types"] ?? "").split(whereSeparator: { $0 == "," || $0 == " " || $0 == ";" }).map(String.init))
        input.allowedFamilies = Set(form.values("allowed_families").compactMap(FileTypes.Family.init))
        input.accentColor = form["accent_color"] ?? ""
        input.maxFiles = errors.capture("max_files") { try WholeNumber.parse(form["max_files"] ?? "20", in: 1...1000) } ?? 20
        input.notifications = form["upload_notifications"].flatMap(NotificationMode.init)
        return (input, errors)
    }

    /// The form as it was posted, for showing it again with its errors (never the password).
    static func posted(_ context: RequestContext) -> [String: String] {
        var values: [String: String] = [:]
        for (name, value) in context.formFields where name != "csrf_token" && name != "password" { values[name] = value }
        // The family boxes are one field with several values.
        values["allowed_families"] = context.formFields.values("allowed_families").joined(separator: ",")
        return values
    }
}
