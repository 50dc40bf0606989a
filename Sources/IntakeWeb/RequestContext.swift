import Intake
import Sodium
import Web

/// One request's view of the world: the worker's services, who is signed in, the CSRF token the
/// page must carry, the form already read by the CSRF check, and cookies to send back.
public final class RequestContext {
    public let services: WorkerServices
    public let request: Request
    /// The signed-in user, if any.
    public internal(set) var user: User?
    /// Their session.
    public internal(set) var session: Session?
    /// The personal API token the request was made with (`Authorization: Bearer itk_…`, on
    /// `/api/` only): then there is no session, and no CSRF token is asked for.
    public internal(set) var apiToken: APIToken?
    /// The token forms and scripts must send back: the session's, or for a visitor the
    /// double-submit cookie's. A visitor who sent no token cookie gets a new token, and the
    /// cookie carrying it, only when something reads it (a page with a form, the CSRF check):
    /// a health check, a redirect or a JSON answer costs no random token and sets no cookie.
    public internal(set) var csrfToken: String {
        get {
            if let storedCSRFToken { return storedCSRFToken }
            let secure = services.configuration.isHTTPS
            let token = Digest.base64URL(Sodium.randomBytes(32))
            storedCSRFToken = token
            setCookie(SetCookie(name: CookieNames.csrf(secure: secure), value: token, secure: secure))
            return token
        }
        set { storedCSRFToken = newValue }
    }
    private var storedCSRFToken: String?
    /// Whether `csrfToken` came with the request (a session, or the visitor's cookie) rather
    /// than being made for it now: only then can the request carry a matching token.
    var csrfTokenSent = false
    /// The urlencoded body, read once by the CSRF check for unsafe requests.
    public internal(set) var form: FormFields?
    /// A message carried over a redirect.
    public internal(set) var flash: Flash?
    /// Cookies to set on the response.
    var cookies: [SetCookie] = []
    /// A multipart post whose CSRF token is a form field: the handler checks it before any file.
    var csrfInBody = false

    init(services: WorkerServices, request: Request) {
        self.services = services
        self.request = request
    }

    /// The domain's stores for this request (this thread's database connection).
    public var stores: Stores { services.stores }

    /// The form fields of this post (read by the CSRF check), or an empty set.
    public var formFields: FormFields { form ?? FormFields() }

    /// Sets a cookie on the response.
    public func setCookie(_ cookie: SetCookie) { cookies.append(cookie) }

    /// Carries `message` to the next page shown (after a redirect).
    public func flash(_ kind: Flash.Kind, _ message: String) {
        setCookie(Flash(kind: kind, message: message).cookie(key: services.secretKey, secure: services.configuration.isHTTPS))
    }
}
