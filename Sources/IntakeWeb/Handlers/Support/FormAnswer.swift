import Intake
import Web

/// How an action answers a posted form, for a browser (redirect with a flash, or the page again
/// with messages beside the fields) and for scripts such as `admin.js` (JSON).
enum FormAnswer {
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
}
