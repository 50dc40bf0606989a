import Web

/// `POST /logout`: ends the session; a visitor with none is simply sent to sign-in.
enum LogoutSubmit {
    static func handle(_ context: RequestContext) throws -> Response {
        try SessionCookie.end(context)
        context.flash(.info, "You have signed out.")
        return .redirect(to: "/login")
    }
}
