import Web

/// Turns errors into the one error shape: `{"error":{"code":…,"message":…}}` for the API and
/// scripts, and a small page with the same message for browsers.
enum ErrorResponder {
    static func response(for error: HTTPResponseError, request: Request) -> Response {
        if request.prefersJSON {
            return .json(.error(code: error.code, message: error.publicMessage), status: error.status)
        }
        return .html(page(status: error.status, message: error.publicMessage), status: error.status)
    }

    static func internalError(request: Request) -> Response {
        response(for: HTTPError(.internalServerError, code: "internal_error",
                                "Something went wrong on our side. The error has been logged (request \(request.id))."),
                 request: request)
    }

    /// A minimal, self-contained page; escaping applies to the message.
    static func page(status: HTTPStatus, message: String) -> [UInt8] {
        let title = HTMLEscaping.escape("\(status.code) \(status.reason)")
        let html = """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(title) · Intake</title><link rel="stylesheet" href="/css/app.css"></head>
            <body><main class="error-page"><h1>\(title)</h1><p>\(HTMLEscaping.escape(message))</p><p><a href="/">Back to Intake</a></p></main></body></html>

            """
        return Array(html.utf8)
    }
}

/// HTML escaping for the few strings built outside templates.
enum HTMLEscaping {
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for c in text.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }
}
