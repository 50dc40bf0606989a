import Intake
import Web

/// Starting and ending the browser's session: the database row and the cookie together.
enum SessionCookie {
    /// A new session for `user` in this browser. Any session the browser had before ends: a
    /// session is never carried across a sign-in (no fixation).
    static func start(_ context: RequestContext, for user: User) throws {
        let services = context.services
        let secure = services.configuration.isHTTPS
        if let old = context.request.cookies[CookieNames.session(secure: secure)] { try services.stores.sessions.revoke(token: old) }
        let (token, _) = try services.stores.sessions.create(userID: user.id, remoteAddress: context.request.remoteAddress,
                                                      userAgent: context.request.headers["user-agent"] ?? "")
        var cookie = SetCookie(name: CookieNames.session(secure: secure), value: token, secure: secure)
        cookie.maxAge = Int(services.sessionPolicy.absoluteSeconds)
        context.setCookie(cookie)
        context.setCookie(SetCookie(name: CookieNames.csrf(secure: secure), value: "", maxAge: 0, secure: secure))
    }

    /// Ends this browser's session, on the server and in the cookie.
    static func end(_ context: RequestContext) throws {
        let secure = context.services.configuration.isHTTPS
        if let token = context.request.cookies[CookieNames.session(secure: secure)] {
            try context.services.stores.sessions.revoke(token: token)
        }
        context.setCookie(SetCookie(name: CookieNames.session(secure: secure), value: "", maxAge: 0, secure: secure))
    }
}
