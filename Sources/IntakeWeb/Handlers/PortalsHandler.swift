import Intake
import Templates
import Web

/// The owner's portals: `/dashboard/portals` (list and new), `/dashboard/portals/:id` (edit,
/// switch off/on, delete), and the JSON API `GET/POST /api/portals`, `GET/PUT/DELETE /api/portals/:id`.
enum PortalsHandler {
    static func store(_ context: RequestContext) -> PortalStore { PortalStore(db: context.services.database, clock: context.services.clock) }

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
        return (input, errors)
    }

    static func list(_ context: RequestContext) throws -> Response {
        try listPage(context, values: [:], errors: FieldErrors(), status: .ok)
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
        return try AdminForms.invalid(context, errors) { try listPage(context, values: AdminForms.values(context), errors: errors, status: .unprocessableContent) }
    }

    static func listPage(_ context: RequestContext, values: [String: TemplateValue], errors: FieldErrors, status: HTTPStatus) throws -> Response {
        let services = context.services
        let portals = try store(context).list(userID: context.user!.id)
        let accounts = try StorageAccountStore(db: services.database, clock: services.clock).list(userID: context.user!.id)
        let rules = accounts.map { StorageRules.Account(id: $0.id, provider: $0.provider, status: $0.status) }
        var v = values
        v.removeValue(forKey: "password")
        return try PageView.render(context, "dashboard/portals", title: "Portals", status: status, [
            "portals": .list(portals.map { entry in
                let p = entry.portal
                let acceptance = StorageRules.acceptance(portalActive: p.active, inactiveReason: p.inactiveReason, portalAccountID: p.storageAccountID,
                                                         portalProvider: nil, accounts: rules)
                return ["id": .int(p.id), "name": .string(p.name), "slug": .string(p.slug), "uploads": .int(Int64(entry.uploads)),
                        "accepts": .bool(acceptance.accepts), "reason": acceptance.ownerMessage.map { .string($0) } ?? .null,
                        "account": .string(accounts.first { $0.id == p.storageAccountID }?.displayName ?? "—")]
            }),
            "hasPortals": .bool(!portals.isEmpty),
            "accounts": .list(accounts.filter { $0.status == .active }.map { a in
                ["id": .int(a.id), "name": .string(a.displayName), "selected": .bool(values["storage_account_id"] == .string(String(a.id)))]
            }),
            "hasAccounts": .bool(accounts.contains { $0.status == .active }),
            "values": .map(v), "errors": AdminForms.errors(errors), "hasErrors": .bool(!errors.isEmpty),
        ])
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

    static func json(_ p: Portal, uploads: Int? = nil) -> JSONValue {
        var fields: [(String, JSONValue)] = [
            ("id", .string(String(p.id))), ("name", .string(p.name)), ("slug", .string(p.slug)), ("description", .string(p.description)),
            ("storageAccountId", p.storageAccountID.map { .string(String($0)) } ?? .null), ("isActive", .bool(p.active)),
            ("inactiveReason", p.inactiveReason.map(JSONValue.string) ?? .null), ("hasPassword", .bool(p.hasPassword)),
            ("maxFileSize", p.maxFileBytes.map { .int($0) } ?? .null), ("allowedTypes", .array(p.allowedExtensions.sorted().map(JSONValue.string))),
            ("maxFiles", .int(Int64(p.maxFiles))),
        ]
        if let uploads { fields.append(("uploadCount", .int(Int64(uploads)))) }
        return .object(fields)
    }

    static func apiList(_ context: RequestContext) throws -> Response {
        .json(.array(try store(context).list(userID: context.user!.id).map { json($0.portal, uploads: $0.uploads) }))
    }

    static func apiShow(_ context: RequestContext) throws -> Response { .json(json(try owned(context))) }

    /// JSON body: `name`, `slug`, `storageAccountId`, `description`, `password`, `maxFileSize`, `allowedTypes`, `maxFiles`.
    static func apiInput(_ context: RequestContext, existing: Portal?) throws -> PortalInput {
        let body = try StorageAPIHandler.jsonBody(context)
        var input = PortalInput(name: body["name"] as? String ?? existing?.name ?? "", slug: (body["slug"] as? String ?? existing?.slug ?? "").lowercased())
        input.description = body["description"] as? String ?? existing?.description ?? ""
        input.storageAccountID = (body["storageAccountId"] as? String).flatMap { Int64($0) } ?? (body["storageAccountId"] as? Int).map(Int64.init)
            ?? existing?.storageAccountID
        input.password = body["password"] as? String
        input.maxFileBytes = (body["maxFileSize"] as? Int).map(Int64.init) ?? existing?.maxFileBytes
        input.allowedExtensions = Set((body["allowedTypes"] as? [String])?.map { $0.lowercased() } ?? Array(existing?.allowedExtensions ?? []))
        input.maxFiles = body["maxFiles"] as? Int ?? existing?.maxFiles ?? 20
        input.folderName = existing?.folderName ?? ""
        input.clientNameMode = existing?.clientNameMode ?? .required
        input.clientEmailMode = existing?.clientEmailMode ?? .optional
        input.messageField = existing?.messageField ?? true
        input.clientSubfolders = existing?.clientSubfolders ?? false
        return input
    }

    static func apiCreate(_ context: RequestContext) throws -> Response {
        switch try store(context).create(try apiInput(context, existing: nil), userID: context.user!.id, by: AdminForms.actor(context)) {
        case .success(let portal): return .json(json(portal), status: .created)
        case .failure(let errors): return try AdminForms.invalid(context, errors) { .empty }
        }
    }

    static func apiUpdate(_ context: RequestContext) throws -> Response {
        let portal = try owned(context)
        switch try store(context).update(id: portal.id, try apiInput(context, existing: portal), by: AdminForms.actor(context)) {
        case .success(let saved): return .json(json(saved))
        case .failure(let errors): return try AdminForms.invalid(context, errors) { .empty }
        }
    }
}

private extension Response {
    static var empty: Response { Response(status: .unprocessableContent) }
}
