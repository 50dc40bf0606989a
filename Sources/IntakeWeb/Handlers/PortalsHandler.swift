import Intake
import Templates
import Web

/// The owner's portals: `/dashboard/portals` (list and new), `/dashboard/portals/:id` (edit,
/// switch off/on, delete), and the JSON API `GET/POST /api/portals`, `GET/PUT/DELETE /api/portals/:id`.
enum PortalsHandler {
    static func store(_ context: RequestContext) -> PortalStore { context.stores.portals }

    static func owned(_ context: RequestContext) throws -> Portal {
        guard let portal = try store(context).find(id: try AdminForms.id(context)), portal.userID == context.user!.id else {
            throw HTTPError(.notFound, code: "not_found", "There is no such portal.")
        }
        return portal
    }

    /// Reads the portal form (urlencoded) into an input.
    static func input(_ form: FormFields, existing: Portal?) -> (PortalInput, FieldErrors) {
        var errors = FieldErrors()
        var input = PortalInput(name: form["name"] ?? "", slug: (form["slug"] ?? "").lowercased())
        input.description = form["description"] ?? ""
        input.storageAccountID = form["storage_account_id"].flatMap { Int64($0) }
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
        input.allowedExtensions = Set((form["allowed_types"] ?? "").split(whereSeparator: { $0 == "," || $0 == " " })
            .map { $0.trimmingPrefix(".").lowercased() }.filter { !$0.isEmpty })
        input.maxFiles = errors.capture("max_files") { try WholeNumber.parse(form["max_files"] ?? "20", in: 1...1000) } ?? 20
        input.notifications = form["upload_notifications"].flatMap(NotificationMode.init)
        return (input, errors)
    }

    static func list(_ context: RequestContext) throws -> Response {
        try listPage(context, values: PortalFormView.newPortal, errors: FieldErrors(), status: .ok)
    }

    /// The form as it was posted, for showing it again with its errors.
    static func posted(_ context: RequestContext) -> [String: String] {
        var values: [String: String] = [:]
        for (name, value) in context.formFields where name != "csrf_token" && name != "password" { values[name] = value }
        return values
    }

    static func create(_ context: RequestContext) throws -> Response {
        let (input, parsed) = input(context.formFields, existing: nil)
        var errors = parsed
        if errors.isEmpty {
            switch try store(context).create(input, userID: context.user!.id, by: AdminForms.actor(context)) {
            case .success(let portal): return AdminForms.saved(context, "Portal created: /p/\(portal.slug)", redirect: "/dashboard/portals")
            case .failure(let e): errors = e
            }
        }
        return try AdminForms.invalid(context, errors) { try listPage(context, values: posted(context), errors: errors, status: .unprocessableContent) }
    }

    static func listPage(_ context: RequestContext, values: [String: String], errors: FieldErrors, status: HTTPStatus) throws -> Response {
        let services = context.services
        let portals = try store(context).list(userID: context.user!.id)
        let accounts = try services.stores.storageAccounts.list(userID: context.user!.id)
        let rules = accounts.map { StorageRules.Account(id: $0.id, provider: $0.provider, status: $0.status) }
        var model = PortalFormView.model(values: values, accounts: accounts, currentAccountID: nil, hasPassword: false, errors: errors)
        model["hasPortals"] = .bool(!portals.isEmpty)
        model["portals"] = .list(portals.map { entry in
            let p = entry.portal
            let acceptance = StorageRules.acceptance(portalActive: p.active, inactiveReason: p.inactiveReason, portalAccountID: p.storageAccountID,
                                                     portalProvider: nil, accounts: rules)
            return ["id": .int(p.id), "name": .string(p.name), "slug": .string(p.slug), "uploads": .int(Int64(entry.uploads)),
                    "accepts": .bool(acceptance.accepts), "reason": acceptance.ownerMessage.map { .string($0) } ?? .null,
                    "account": .string(accounts.first { $0.id == p.storageAccountID }?.displayName ?? "—")]
        })
        return try PageView.render(context, "dashboard/portals", title: "Portals", status: status, model)
    }

    static func toggle(_ context: RequestContext) throws -> Response {
        let portal = try owned(context)
        do {
            try store(context).setActive(id: portal.id, active: !portal.active, by: AdminForms.actor(context))
        } catch let refusal as ValidationError {
            context.flash(.error, refusal.message)
            return .redirect(to: "/dashboard/portals")
        }
        context.flash(.success, portal.active ? "“\(portal.name)” no longer accepts uploads." : "“\(portal.name)” accepts uploads again.")
        return .redirect(to: "/dashboard/portals")
    }

    static func delete(_ context: RequestContext) throws -> Response {
        let portal = try owned(context)
        do {
            try store(context).delete(id: portal.id, by: AdminForms.actor(context))
        } catch let error as ValidationError {
            if context.request.prefersJSON { throw HTTPError(.conflict, code: "portal_has_files", error.message) }
            context.flash(.error, error.message)
            return .redirect(to: "/dashboard/portals")
        }
        if context.request.prefersJSON { return .json(["success": true]) }
        context.flash(.success, "“\(portal.name)” was deleted.")
        return .redirect(to: "/dashboard/portals")
    }

    // MARK: JSON API

    static func json(_ p: Portal, uploads: Int? = nil, accounts: [StorageAccount] = []) -> JSONValue {
        var fields: [(String, JSONValue)] = [
            ("id", .string(String(p.id))), ("name", .string(p.name)), ("slug", .string(p.slug)), ("description", .string(p.description)),
            ("storageProvider", accounts.first { $0.id == p.storageAccountID }.map { .string($0.provider.rawValue) } ?? .null),
            ("storageAccountId", p.storageAccountID.map { .string(String($0)) } ?? .null), ("isActive", .bool(p.active)),
            ("inactiveReason", p.inactiveReason.map(JSONValue.string) ?? .null), ("hasPassword", .bool(p.hasPassword)),
            ("requireClientName", .bool(p.clientNameMode == .required)), ("requireClientEmail", .bool(p.clientEmailMode == .required)),
            ("clientNameMode", .string(p.clientNameMode.rawValue)), ("clientEmailMode", .string(p.clientEmailMode.rawValue)),
            ("messageField", .bool(p.messageField)), ("folderName", .string(p.folderName)), ("clientSubfolders", .bool(p.clientSubfolders)),
            ("maxFileSize", p.maxFileBytes.map { .int($0) } ?? .null), ("allowedTypes", .array(p.allowedExtensions.sorted().map(JSONValue.string))),
            ("maxFiles", .int(Int64(p.maxFiles))), ("notifications", p.notifications.map { .string($0.rawValue) } ?? .null),
        ]
        if let uploads {
            fields.append(("uploadCount", .int(Int64(uploads))))
            fields.append(("_count", ["uploads": .int(Int64(uploads))]))
        }
        return .object(fields)
    }

    static func accounts(_ context: RequestContext) throws -> [StorageAccount] {
        try context.stores.storageAccounts.list(userID: context.user!.id)
    }

    static func apiList(_ context: RequestContext) throws -> Response {
        let accounts = try accounts(context)
        return .json(.array(try store(context).list(userID: context.user!.id).map { json($0.portal, uploads: $0.uploads, accounts: accounts) }))
    }

    static func apiShow(_ context: RequestContext) throws -> Response { .json(json(try owned(context), accounts: try accounts(context))) }

    /// A JSON portal body over `existing` (or the defaults): `name`, `slug`, `description`,
    /// `storageAccountId` or `storageProvider` (the owner's active account of it), `password`,
    /// `maxFileSize`, `allowedTypes`, `maxFiles`, `requireClientName`, `requireClientEmail` (or
    /// `clientNameMode`/`clientEmailMode`: required, optional, hidden), `messageField`,
    /// `folderName`, `clientSubfolders`, `isActive`. Any other field is an error naming it.
    static func apiInput(_ context: RequestContext, existing: Portal?) throws -> (input: PortalInput, active: Bool?, errors: FieldErrors) {
        var body = JSONFields(try StorageAPIHandler.jsonBody(context))
        var input = PortalInput(name: body.string("name") ?? existing?.name ?? "", slug: (body.string("slug") ?? existing?.slug ?? "").lowercased())
        input.description = body.string("description") ?? existing?.description ?? ""
        input.storageAccountID = body.id("storageAccountId") ?? existing?.storageAccountID
        let provider = body.string("storageProvider")
        input.password = body.string("password")
        input.maxFileBytes = body.has("maxFileSize") ? body.int("maxFileSize") : existing?.maxFileBytes
        input.allowedExtensions = Set((body.strings("allowedTypes") ?? existing.map { Array($0.allowedExtensions) } ?? []).map {
            $0.trimmingPrefix(".").lowercased()
        })
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
        do { try body.finish() } catch let errors as FieldErrors { return (input, active, errors) }
        var errors = FieldErrors()
        if let provider {
            guard let kind = StorageProviderKind(rawValue: provider) else {
                errors["storageProvider"] = "Must be google_drive, dropbox or local."
                return (input, active, errors)
            }
            let owned = try accounts(context)
            if body.has("storageAccountId") {
                if let chosen = owned.first(where: { $0.id == input.storageAccountID }), chosen.provider != kind {
                    errors["storageProvider"] = "The chosen storage account is of another kind."
                }
            } else if existing?.storageAccountID == nil || owned.first(where: { $0.id == existing?.storageAccountID })?.provider != kind {
                switch StorageRules.portalBinding(provider: kind, selectedAccountID: nil,
                                                  accounts: owned.map { StorageRules.Account(id: $0.id, provider: $0.provider, status: $0.status) }) {
                case .success(let id): input.storageAccountID = id
                case .failure(let e): errors["storageProvider"] = e.description
                }
            }
        }
        return (input, active, errors)
    }

    static func apiCreate(_ context: RequestContext) throws -> Response {
        let (input, active, errors) = try apiInput(context, existing: nil)
        guard errors.isEmpty else { return try AdminForms.invalid(context, errors) { .empty } }
        var portalInput = input
        if let active { portalInput.active = active }
        switch try store(context).create(portalInput, userID: context.user!.id, by: AdminForms.actor(context)) {
        case .success(let portal): return .json(json(portal, accounts: try accounts(context)), status: .created)
        case .failure(let errors): return try AdminForms.invalid(context, errors) { .empty }
        }
    }

    static func apiUpdate(_ context: RequestContext) throws -> Response {
        let portal = try owned(context)
        let (input, active, errors) = try apiInput(context, existing: portal)
        guard errors.isEmpty else { return try AdminForms.invalid(context, errors) { .empty } }
        switch try store(context).update(id: portal.id, input, by: AdminForms.actor(context)) {
        case .success(let saved):
            if let active, active != saved.active {
                do {
                    try store(context).setActive(id: saved.id, active: active, by: AdminForms.actor(context))
                } catch let refusal as ValidationError {
                    throw HTTPError(.conflict, code: "storage_unavailable", refusal.message)
                }
            }
            return .json(json(try owned(context), accounts: try accounts(context)))
        case .failure(let errors): return try AdminForms.invalid(context, errors) { .empty }
        }
    }
}

private extension Response {
    static var empty: Response { Response(status: .unprocessableContent) }
}
