import Intake
import Web

/// `POST /login`: a session for the right e-mail and password, then on to `next` (on this site
/// only); the form again for a wrong one (401) or after too many failures (429, `Retry-After`).
enum LoginSubmit {
    static func handle(_ context: RequestContext) throws -> Response {
        let form = context.formFields
        let email = form["email"] ?? ""
        let next = LocalRedirect.sanitize(form["next"])
        let authenticator = context.stores.authenticator
        switch try authenticator.signIn(email: email, password: form["password"] ?? "", remoteAddress: context.request.remoteAddress) {
        case .invalidCredentials:
            return try LoginPage.render(context, email: email, next: next, error: "The e-mail address or the password is not right.", status: .unauthorized)
        case .throttled(let wait):
            var response = try LoginPage.render(context, email: email, next: next,
                                                error: "Too many failed sign-ins. Wait \(wait) second\(wait == 1 ? "" : "s") and try again.",
                                                status: .tooManyRequests)
            response.headers.set("retry-after", String(wait))
            return response
        case .success(let user):
            try SessionCookie.start(context, for: user)
            context.services.logger.info("signed in", metadata: ["request_id": "\(context.request.id)", "user_id": "\(user.id)"])
            return .redirect(to: next)
        }
    }
}
