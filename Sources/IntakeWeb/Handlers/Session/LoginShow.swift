import Intake
import Web

/// `GET /login?next=`: the sign-in form; someone already signed in goes straight to `next`.
enum LoginShow {
    static func handle(_ context: RequestContext) throws -> Response {
        let next = LocalRedirect.sanitize(try context.request.query()["next"])
        if context.user != nil { return .redirect(to: next, status: HTTPStatus(302, "Found")) }
        return try LoginPage.render(context, email: "", next: next, error: nil, status: .ok)
    }
}
