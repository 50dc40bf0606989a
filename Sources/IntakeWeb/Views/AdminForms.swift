import Intake
import Templates
import Web

/// What the admin form handlers share: answering a saved or refused form for a browser (redirect
/// with a flash, or the page again with messages beside the fields) and for `admin.js` (JSON).
enum AdminForms {
    /// Success: a flash and a redirect (post/redirect/get), or `{"ok":true,"redirect":…}` for scripts.
    static func saved(_ context: RequestContext, _ message: String, redirect: String) -> Response {
        context.flash(.success, message)
        if context.request.prefersJSON {
            return .json(["ok": true, "message": .string(message), "redirect": .string(redirect)])
        }
        return .redirect(to: redirect)
    }

    /// Refused: the page again (status 422) with the values kept, or the JSON error with the
    /// message for each field.
    static func invalid(_ context: RequestContext, _ errors: FieldErrors, page: () throws -> Response) throws -> Response {
        if context.request.prefersJSON {
            let fields = errors.messages.sorted { $0.key < $1.key }.map { ($0.key, JSONValue.string($0.value)) }
            return .json(["error": ["code": "invalid", "message": "Some fields need attention.", "fields": .object(fields)]],
                         status: .unprocessableContent)
        }
        var response = try page()
        response.status = .unprocessableContent
        return response
    }

    /// Refused, for an API action that has no page: the JSON error, or a bare 422 for a client
    /// that did not ask for JSON.
    static func invalid(_ context: RequestContext, _ errors: FieldErrors) throws -> Response {
        try invalid(context, errors) { Response(status: .unprocessableContent) }
    }

    /// The admin behind a change, and the address it came from.
    static func actor(_ context: RequestContext) -> AuditLog.Actor {
        AuditLog.Actor(userID: context.user?.id, remoteAddress: context.request.remoteAddress)
    }

    /// The form values as they were posted (for re-rendering).
    static func values(_ context: RequestContext) -> [String: TemplateValue] {
        var values: [String: TemplateValue] = [:]
        for (name, value) in context.formFields where name != "csrf_token" { values[name] = .string(value) }
        return values
    }

    /// A number-and-unit size field: the number and the unit choices, the current one selected.
    static func size(_ field: String, number: String, unit: String) -> TemplateValue {
        ["field": .string(field), "number": .string(number), "units": .list(ByteSize.Unit.allCases.map { u in
            ["value": .string(u.rawValue), "selected": .bool(u.rawValue == unit)]
        })]
    }

    static func size(_ field: String, bytes: Int64) -> TemplateValue {
        let shown = ByteSize(bytes: bytes).display()
        return size(field, number: shown.number, unit: shown.unit.rawValue)
    }

    /// The size fields of a posted form, as they were typed.
    static func size(_ field: String, posted context: RequestContext) -> TemplateValue {
        size(field, number: context.formFields[field + "_number"] ?? "", unit: context.formFields[field + "_unit"] ?? "")
    }

    static func errors(_ errors: FieldErrors) -> TemplateValue {
        .map(errors.messages.mapValues(TemplateValue.string))
    }

    /// A path parameter that must be an id.
    static func id(_ context: RequestContext, _ name: String = "id") throws -> Int64 {
        guard let text = context.request.parameters[name], let id = Int64(text), id > 0 else {
            throw HTTPError(.notFound, code: "not_found", "There is no such record.")
        }
        return id
    }
}
