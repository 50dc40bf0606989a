import Templates
import Web

/// Turns errors into the one error shape: `{"error":{"code":…,"message":…}}` for the API and
/// scripts, and the error page with the same message for browsers.
enum ErrorResponder {
    static func response(for error: HTTPResponseError, context: RequestContext) -> Response {
        if context.request.prefersJSON {
            return .json(.error(code: error.code, message: error.publicMessage, details: error.details), status: error.status)
        }
        let heading: String
        switch error.status.code {
        case 403: heading = error.code == "csrf_failed" ? "Request refused" : "Not allowed"
        case 404: heading = "Page not found"
        case 500: heading = "Something went wrong"
        default: heading = error.status.reason
        }
        if let page = try? PageView.render(context, "error", title: heading, status: error.status,
                                            ["heading": .string(heading), "message": .string(error.publicMessage)]) {
            return page
        }
        return .html(minimalPage(status: error.status, message: error.publicMessage), status: error.status)
    }

    static func internalError(context: RequestContext) -> Response {
        response(for: HTTPError(.internalServerError, code: "internal_error",
                                "Something went wrong on our side. The error has been logged (request \(context.request.id))."),
                 context: context)
    }

    /// A self-contained page for when the templates themselves fail; escaping applies.
    static func minimalPage(status: HTTPStatus, message: String) -> [UInt8] {
        let title = HTMLEscaping.escape("\(status.code) \(status.reason)")
        return Array("""
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>\(title) · Intake</title><link rel="stylesheet" href="/css/app.css"></head>
            <body><main class="container"><h1>\(title)</h1><p>\(HTMLEscaping.escape(message))</p></main></body></html>

            """.utf8)
    }
}

/// HTML escaping for the few strings built outside templates: the templates' own escaper.
enum HTMLEscaping {
    static func escape(_ text: String) -> String { HTMLEscape.escape(text) }
}
