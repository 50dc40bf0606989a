import Web

/// `GET /`: the dashboard for someone signed in, the sign-in page for anyone else.
enum HomeRedirect {
    static func handle(_ context: RequestContext) throws -> Response {
        .redirect(to: context.user == nil ? "/login" : "/dashboard", status: HTTPStatus(302, "Found"))
    }
}
