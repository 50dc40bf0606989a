import Intake
import Templates
import Web

/// `GET /login` and `POST /login`.
enum LoginHandler {
    static func show(_ context: RequestContext) throws -> Response {
        let next = LocalRedirect.sanitize(try context.request.query()["next"])
        if context.user != nil { return .redirect(to: next, status: HTTPStatus(302, "Found")) }
        return try page(context, email: "", next: next, error: nil, status: .ok)
    }

    static func submit(_ context: RequestContext) throws -> Response {
        let form = context.formFields
        let email = form["email"] ?? ""
        let next = LocalRedirect.sanitize(form["next"])
        let authenticator = context.stores.authenticator
        switch try authenticator.signIn(email: email, password: form["password"] ?? "", remoteAddress: context.request.remoteAddress) {
        case .invalidCredentials:
            return try page(context, email: email, next: next, error: "The e-mail address or the password is not right.", status: .unauthorized)
        case .throttled(let wait):
            var response = try page(context, email: email, next: next,
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

    private static func page(_ context: RequestContext, email: String, next: String, error: String?, status: HTTPStatus) throws -> Response {
        try PageView.render(context, "login", title: "Sign in", status: status, [
            "email": .string(email),
            "next": .string(next),
            "error": error.map { TemplateValue.string($0) } ?? .null,
        ])
    }
}

/// `POST /logout`: ends the session; a visitor with none is simply sent to sign-in.
enum LogoutHandler {
    static func submit(_ context: RequestContext) throws -> Response {
        try SessionCookie.end(context)
        context.flash(.info, "You have signed out.")
        return .redirect(to: "/login")
    }
}
