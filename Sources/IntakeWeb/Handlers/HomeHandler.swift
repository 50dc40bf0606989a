import Web

/// `GET /`: the dashboard for someone signed in, the sign-in page for anyone else.
enum HomeHandler {
    static func show(_ context: RequestContext) throws -> Response {
        .redirect(to: context.user == nil ? "/login" : "/dashboard", status: HTTPStatus(302, "Found"))
    }
}
