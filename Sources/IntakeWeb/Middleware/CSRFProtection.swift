import Sodium
import Web

/// Cross-site request forgery protection for every state-changing request: the browser's
/// `Origin`, when sent, must be this site's; and the request must carry the page's token, as the
/// `csrf_token` field of a form post or the `X-CSRF-Token` header of a script.
enum CSRFProtection {
    static let fieldName = "csrf_token"
    static let headerName = "x-csrf-token"

    static func failure(_ message: String) -> HTTPError {
        HTTPError(.forbidden, code: "csrf_failed", message)
    }

    /// Checks `context.request`; reads an urlencoded body into `context.form` on the way.
    static func verify(_ context: RequestContext) throws {
        let request = context.request
        try verifyOrigin(context)
        var sent: String?
        if request.mediaType == "application/x-www-form-urlencoded" {
            let form = try request.urlEncodedForm()
            context.form = form
            sent = form[fieldName]
        }
        if sent == nil { sent = request.headers[headerName] }
        if sent == nil, request.mediaType == "multipart/form-data" {
            // A browser's file form cannot set headers: the token is the body's first field, and
            // the handler must call `verifyField` before it reads any file. A request without
            // the cookie that token must match can never pass: refused before its body is read.
            guard context.csrfTokenSent else {
                throw failure("This form has expired or did not come from this site, so nothing was uploaded. Reload the page and try again.")
            }
            context.csrfInBody = true
            return
        }
        guard let sent, !context.csrfToken.isEmpty,
              Sodium.constantTimeEqual(Array(sent.utf8), Array(context.csrfToken.utf8)) else {
            throw failure("This form has expired or did not come from this site, so nothing was changed. Go back, reload the page and try again.")
        }
    }

    /// For a request made with an API token (no cookie carries its authority, so there is
    /// nothing to forge): the urlencoded body read as `verify` would, without asking for a token.
    static func readForm(_ context: RequestContext) throws {
        if context.request.mediaType == "application/x-www-form-urlencoded" { context.form = try context.request.urlEncodedForm() }
    }

    /// A browser's `Origin`, when sent, must be this site's.
    static func verifyOrigin(_ context: RequestContext) throws {
        if let origin = context.request.headers["origin"], origin != siteOrigin(context.services.configuration.baseURL) {
            throw failure("This request came from another site (\(origin.prefix(100))) and was refused. Nothing was changed.")
        }
    }

    /// The longest token field read: ours are 43 characters.
    static let maxFieldBytes = 256

    /// The check for a token that came as a multipart field.
    static func verifyField(_ sent: String?, _ context: RequestContext) throws {
        guard let sent, !context.csrfToken.isEmpty, Sodium.constantTimeEqual(Array(sent.utf8), Array(context.csrfToken.utf8)) else {
            throw failure("This form has expired or did not come from this site, so nothing was uploaded. Reload the page and try again.")
        }
        context.csrfInBody = false
    }

    /// `scheme://host[:port]` of a base URL (what browsers send as `Origin`).
    static func siteOrigin(_ baseURL: String) -> String {
        guard let schemeEnd = baseURL.range(of: "://") else { return baseURL }
        let rest = baseURL[schemeEnd.upperBound...]
        let host = rest.prefix { $0 != "/" }
        return String(baseURL[..<schemeEnd.upperBound]) + host
    }
}

/// Cookie names, with the `__Host-` prefix when the site is served over https (the browser then
/// insists on `Secure`, `Path=/` and no `Domain`).
enum CookieNames {
    static func session(secure: Bool) -> String { secure ? "__Host-intake_session" : "intake_session" }
    static func csrf(secure: Bool) -> String { secure ? "__Host-intake_csrf" : "intake_csrf" }
}
