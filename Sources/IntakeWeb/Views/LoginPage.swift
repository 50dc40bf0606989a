import Intake
import Templates
import Web

/// `login`: the sign-in form, with the e-mail kept and the message after a refusal.
enum LoginPage {
    static func render(_ context: RequestContext, email: String, next: String, error: String?, status: HTTPStatus) throws -> Response {
        try PageView.render(context, "login", title: "Sign in", status: status, [
            "email": .string(email),
            "next": .string(next),
            "error": error.map { TemplateValue.string($0) } ?? .null,
        ])
    }
}
