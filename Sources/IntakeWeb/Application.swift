import Database
import Intake
import Logging
import Web

/// A route handler: one page action or API endpoint.
public typealias Handler = (RequestContext) throws -> Response

/// A handler with who may reach it.
struct Route {
    let access: Access
    let handler: Handler
    /// Whether unsafe requests must carry the CSRF token. Only endpoints that read no cookie
    /// (their authority is in the URL) are exempt; they still refuse a cross-site `Origin`.
    var csrfToken = true
    /// Its position in the route table, which names its counters (`MetricsLayout`).
    var entry = 0
}

/// Intake's web application: the routes, and the one place where every request passes the
/// session, CSRF and access checks, and where errors become responses.
/// One instance per accept thread (it holds that thread's services).
public final class Application {
    private let router: Router<Route>
    private let services: WorkerServices
    /// The request line (`MetricsLayout`) of the request this thread answered last, counted
    /// once its answer is written (`finished`).
    private var answeredLine = 0

    public init(services: WorkerServices) {
        self.services = services
        self.router = Self.routes(debug: services.configuration.debugRoutes)
        precondition(services.metrics.layout.entryLines.count == router.entries.count, "the metrics were laid out for another route table")
    }

    /// The counters' layout for the route table of a configuration (with or without the debug routes).
    public static func metricsLayout(debug: Bool) -> MetricsLayout {
        MetricsLayout(routes: routes(debug: debug).entries.map { ($0.method, $0.pattern) })
    }

    /// Every route of the site.
    static func routes(debug: Bool) -> Router<Route> {
        var r = Router<Route>()
        var entry = 0
        func add(_ method: HTTPMethod, _ path: String, _ access: Access, _ handler: @escaping Handler) {
            r.add(method, path, Route(access: access, handler: handler, entry: entry))
            entry += 1
        }
        func tus(_ method: HTTPMethod, _ path: String, _ handler: @escaping Handler) {
            r.add(method, path, Route(access: .anyone, handler: handler, csrfToken: false, entry: entry))
            entry += 1
        }
        // Handlers/Site and Handlers/Session
        add(.get, "/healthz", .anyone, HealthCheck.handle)
        // An admin's session or the scrapers' bearer token (INTAKE_METRICS_TOKEN); the handler checks which.
        add(.get, "/metrics", .anyone, MetricsShow.handle)
        add(.get, "/api/openapi.json", .anyone, APIDocumentShow.handle)
        add(.get, "/", .anyone, HomeRedirect.handle)
        add(.get, "/login", .anyone, LoginShow.handle)
        add(.post, "/login", .anyone, LoginSubmit.handle)
        add(.post, "/logout", .anyone, LogoutSubmit.handle)
        // Handlers/PublicPortal and Handlers/Receipts: what a client sees
        add(.get, "/p/:slug", .anyone, PublicPortalShow.handle)
        add(.post, "/p/:slug/password", .anyone, PublicPortalPassword.handle)
        add(.post, "/p/:slug/upload", .anyone, PublicPortalUpload.handle)
        add(.post, "/api/upload", .anyone, UploadAPICreate.handle)
        add(.get, "/p/:slug/receipt", .anyone, ReceiptShow.handle)
        add(.get, "/p/:slug/logo", .anyone, PublicPortalLogo.handle)
        add(.get, "/p/:slug/theme.css", .anyone, PublicPortalTheme.handle)
        add(.get, "/api/receipts/:token", .anyone, ReceiptAPIShow.handle)
        // Handlers/Tus: resumable uploads
        tus(.options, "/api/tus", TusOptions.handle)
        tus(.post, "/api/tus", TusCreate.handle)
        tus(.options, "/api/tus/:id", TusOptions.handle)
        tus(.head, "/api/tus/:id", TusHead.handle)
        tus(.get, "/api/tus/:id", TusStatus.handle)
        tus(.patch, "/api/tus/:id", TusPatch.handle)
        tus(.delete, "/api/tus/:id", TusTerminate.handle)
        // Handlers/Site, Handlers/Portals
        add(.get, "/dashboard", .signedIn, DashboardShow.handle)
        add(.get, "/dashboard/portals", .signedIn, PortalList.handle)
        add(.post, "/dashboard/portals", .signedIn, PortalCreate.handle)
        add(.get, "/dashboard/portals/:id", .signedIn, PortalEdit.handle)
        add(.post, "/dashboard/portals/:id", .signedIn, PortalSave.handle)
        add(.post, "/dashboard/portals/:id/toggle", .signedIn, PortalToggle.handle)
        add(.post, "/dashboard/portals/:id/delete", .signedIn, PortalDelete.handle)
        add(.post, "/dashboard/portals/:id/logo", .signedIn, PortalLogoSave.handle)
        add(.post, "/dashboard/portals/:id/logo/delete", .signedIn, PortalLogoDelete.handle)
        add(.get, "/api/portals", .signedIn, PortalAPIList.handle)
        add(.post, "/api/portals", .signedIn, PortalAPICreate.handle)
        add(.get, "/api/portals/:id", .signedIn, PortalAPIShow.handle)
        add(.put, "/api/portals/:id", .signedIn, PortalAPIUpdate.handle)
        add(.delete, "/api/portals/:id", .signedIn, PortalDelete.handle)
        // Handlers/Files
        add(.get, "/dashboard/files", .signedIn, FileList.handle)
        add(.post, "/dashboard/files/:id/delete", .signedIn, FileDelete.handle)
        add(.post, "/dashboard/files/:id/retry", .signedIn, FileRetry.handle)
        add(.get, "/dashboard/files/:id/preview", .signedIn, FilePreviewShow.handle)
        add(.post, "/dashboard/files/zip", .signedIn, FileZipDownload.handle)
        add(.post, "/dashboard/files/delete", .signedIn, FileBulkDeleteConfirm.handle)
        add(.post, "/dashboard/files/delete-selected", .signedIn, FileBulkDelete.handle)
        add(.get, "/dashboard/files/:id/inline", .signedIn, FilePreviewContent.handle)
        add(.get, "/api/uploads/:id/download", .signedIn, FileDownload.handle)
        add(.get, "/api/uploads/:id", .signedIn, FileAPIShow.handle)
        add(.delete, "/api/uploads/:id", .signedIn, FileAPIDelete.handle)
        add(.get, "/api/v1/uploads", .signedIn, FileAPIList.handle)
        // Handlers/Analytics
        add(.get, "/dashboard/analytics", .signedIn, AnalyticsShow.handle)
        add(.get, "/api/v1/analytics", .signedIn, AnalyticsAPIShow.handle)
        // Handlers/Account
        // Handlers/Billing
        add(.get, "/dashboard/billing", .signedIn, BillingShow.handle)
        add(.get, "/dashboard/billing/statement.csv", .signedIn, BillingStatementCSV.handle)
        add(.get, "/api/v1/billing/balance", .signedIn, BillingAPIBalance.handle)
        add(.post, "/api/v1/storage/purchase", .signedIn, StorageAPIPurchase.handle)
        add(.get, "/api/v1/storage/purchases", .signedIn, StorageAPIPurchases.handle)
        add(.get, "/api/v1/storage/quota", .signedIn, StorageAPIQuota.handle)
        add(.get, "/dashboard/storage", .signedIn, StorageQuotaShow.handle)
        add(.get, "/dashboard/storage/purchase", .signedIn, StoragePurchasePreview.handle)
        add(.post, "/dashboard/storage/purchase", .signedIn, StoragePurchaseConfirm.handle)
        add(.get, "/account", .signedIn, AccountShow.handle)
        add(.post, "/account/profile", .signedIn, AccountProfileSave.handle)
        add(.post, "/account/password", .signedIn, AccountPasswordSave.handle)
        add(.post, "/account/notifications", .signedIn, AccountNotificationsSave.handle)
        add(.post, "/account/tokens", .signedIn, AccountTokenCreate.handle)
        add(.post, "/account/tokens/:id/revoke", .signedIn, AccountTokenRevoke.handle)
        // Handlers/Webhooks
        add(.post, "/dashboard/migrations", .signedIn, MigrationCreate.handle)
        add(.get, "/dashboard/migrations/:id", .signedIn, MigrationShow.handle)
        add(.post, "/dashboard/migrations/:id/toggle", .signedIn, MigrationToggle.handle)
        add(.post, "/dashboard/migrations/:id/retry", .signedIn, MigrationRetry.handle)
        add(.get, "/dashboard/webhooks", .signedIn, WebhookList.handle)
        add(.post, "/dashboard/webhooks", .signedIn, WebhookCreate.handle)
        add(.get, "/dashboard/webhooks/:id", .signedIn, WebhookShow.handle)
        add(.post, "/dashboard/webhooks/:id/toggle", .signedIn, WebhookToggle.handle)
        add(.post, "/dashboard/webhooks/:id/delete", .signedIn, WebhookDelete.handle)
        add(.post, "/dashboard/webhooks/:id/rotate-secret", .signedIn, WebhookSecretRotate.handle)
        add(.post, "/dashboard/webhooks/:id/test", .signedIn, WebhookTestSend.handle)
        add(.post, "/dashboard/webhooks/:id/deliveries/:delivery/resend", .signedIn, WebhookDeliveryResend.handle)
        // Handlers/Storage and Handlers/StorageAPI
        add(.get, "/dashboard/settings", .signedIn, StorageSettingsShow.handle)
        add(.post, "/dashboard/settings/connect", .signedIn, StorageConnect.handle)
        add(.post, "/dashboard/settings/accounts/:id/deactivate", .signedIn, StorageAccountDeactivate.handle)
        add(.post, "/dashboard/settings/accounts/:id/reactivate", .signedIn, StorageAccountReactivate.handle)
        add(.post, "/dashboard/settings/fix", .signedIn, StorageFix.handle)
        add(.post, "/dashboard/settings/sync", .signedIn, StorageSync.handle)
        add(.post, "/dashboard/settings/check", .signedIn, StorageCheckAll.handle)
        add(.get, "/oauth/:provider/callback", .signedIn, OAuthCallback.handle)
        add(.get, "/api/storage/accounts", .signedIn, StorageAPIAccounts.handle)
        add(.get, "/api/v1/storage", .signedIn, StorageAPIOverview.handle)
        add(.post, "/api/storage/deactivate", .signedIn, StorageAPIDeactivate.handle)
        add(.post, "/api/storage/reactivate", .signedIn, StorageAPIReactivate.handle)
        add(.post, "/api/storage/fix-accounts", .signedIn, StorageAPIFix.handle)
        add(.post, "/api/storage/sync-oauth-status", .signedIn, StorageAPISync.handle)
        add(.post, "/api/storage/refresh-token", .signedIn, StorageAPIRefreshToken.handle)
        // Handlers/Admin
        add(.get, "/admin", .admin, AdminOverview.handle)
        add(.get, "/admin/users", .admin, AdminUserList.handle)
        add(.get, "/admin/users/:id", .admin, AdminUserShow.handle)
        add(.post, "/admin/users/:id/plan", .admin, AdminUserPlanSave.handle)
        add(.post, "/admin/users/:id/balance", .admin, AdminUserBalanceSave.handle)
        add(.get, "/admin/storage/pricing", .admin, AdminPricingShow.handle)
        add(.post, "/admin/storage/pricing", .admin, AdminPricingSave.handle)
        add(.get, "/admin/storage/quotas", .admin, AdminQuotaList.handle)
        add(.post, "/admin/storage/quotas", .admin, AdminQuotaOverrideSave.handle)
        add(.get, "/admin/tariffs", .admin, AdminTariffList.handle)
        add(.post, "/admin/tariffs", .admin, AdminTariffCreate.handle)
        add(.get, "/admin/tariffs/:id", .admin, AdminTariffEdit.handle)
        add(.post, "/admin/tariffs/:id", .admin, AdminTariffSave.handle)
        add(.post, "/admin/tariffs/:id/archive", .admin, AdminTariffArchive.handle)
        add(.post, "/admin/tariffs/:id/delete", .admin, AdminTariffDelete.handle)
        add(.get, "/admin/audit", .admin, AdminAuditList.handle)
        add(.get, "/admin/billing", .admin, AdminBillingShow.handle)
        add(.get, "/admin/billing/report.csv", .admin, AdminBillingCSV.handle)
        add(.get, "/admin/diagnostics", .admin, AdminDiagnosticsShow.handle)
        add(.get, "/admin/diagnostics/storage", .admin, AdminDiagnosticsStorage.handle)
        add(.post, "/admin/diagnostics/storage/:id/check", .admin, AdminDiagnosticsStorageCheck.handle)
        add(.get, "/admin/diagnostics/portal", .admin, AdminDiagnosticsPortal.handle)
        add(.get, "/admin/diagnostics/cleanup", .admin, AdminDiagnosticsCleanup.handle)
        add(.post, "/admin/diagnostics/cleanup/zombies", .admin, AdminDiagnosticsCleanupZombies.handle)
        add(.post, "/admin/diagnostics/cleanup/reconcile", .admin, AdminDiagnosticsReconcile.handle)
        if debug {
            // Handlers/Debug
            add(.get, "/_debug/sleep", .anyone, DebugSleep.handle)
            add(.post, "/_debug/multipart", .anyone, DebugMultipart.handle)
        }
        return r
    }

    /// Answers a request. User-facing errors keep their status and message; anything else is
    /// logged with the request id and answered with a plain 500 that reveals nothing.
    public func respond(to incoming: Request) -> Response {
        var request = incoming
        var response: Response
        let match = router.match(request.method, request.path)
        let layout = services.metrics.layout
        if case .found(let route, let parameters) = match {
            request.parameters = parameters
            // A HEAD request a GET route answers has a line of its own.
            answeredLine = request.method == .head ? layout.headLines[route.entry] ?? layout.entryLines[route.entry] : layout.entryLines[route.entry]
        } else {
            answeredLine = layout.unmatchedLine(request.method)
        }
        let context = RequestContext(services: services, request: request)
        do {
            switch match {
            case .found(let route, _):
                try authenticate(context)
                response = try dispatch(route, context)
            case .methodNotAllowed(let allowed):
                try authenticate(context)
                response = ErrorResponder.response(
                    for: HTTPError(.methodNotAllowed, code: "method_not_allowed", "\(request.method) is not allowed here."), context: context)
                response.headers.set("allow", allowed.map(\.rawValue).joined(separator: ", "))
            case .notFound:
                try authenticate(context)
                response = ErrorResponder.response(for: HTTPError(.notFound, code: "not_found", "There is no page at this address."), context: context)
            case .badPath:
                response = ErrorResponder.response(
                    for: HTTPError.badRequest("The address is not valid (bad percent-encoding or UTF-8)."), context: context)
            }
        } catch let error as HTTPResponseError {
            response = ErrorResponder.response(for: error, context: context)
        } catch {
            services.logger.error("unhandled error", metadata: ["request_id": "\(request.id)", "error": "\(error)"])
            response = ErrorResponder.internalError(context: context)
        }
        finish(&response, context)
        return response
    }

    /// Counts the request answered last by its route, method and final status (499 when the
    /// client left during the answer), and the seconds from its arrival to the answer's last byte:
    /// the figures of its log line. The transport calls it once the answer is written.
    public func finished(status: HTTPStatus, seconds: Double) {
        services.metrics.countRequest(line: answeredLine, status: status.code, seconds: seconds)
    }

    private func dispatch(_ route: Route, _ context: RequestContext) throws -> Response {
        if context.request.method.isUnsafe {
            if let token = context.apiToken {
                guard token.scope == .readWrite else {
                    throw HTTPError(.forbidden, code: "insufficient_scope", "This API token may only read (GET); create a read-and-write token to change things.")
                }
                try CSRFProtection.readForm(context)
            } else if route.csrfToken {
                try CSRFProtection.verify(context)
            } else {
                try CSRFProtection.verifyOrigin(context)
            }
        }
        switch route.access.check(context.user, request: context.request) {
        case .allow:
            let response = try route.handler(context)
            if context.csrfInBody {
                // A multipart post whose handler did not check the token field: refuse, as the
                // check must come before anything is changed.
                throw CSRFProtection.failure("This form did not carry its token, so nothing was changed.")
            }
            return response
        case .signIn:
            if context.request.prefersJSON {
                throw HTTPError(.unauthorized, code: "unauthorized", "Sign in first.")
            }
            let back = context.request.method == .get ? context.request.path + (context.request.rawQuery.isEmpty ? "" : "?" + context.request.rawQuery) : "/dashboard"
            return .redirect(to: "/login?next=" + URLEncodedForm.encode(back))
        case .forbidden:
            throw HTTPError(.forbidden, code: "forbidden", "This page is for administrators only.")
        }
    }

    /// Finds the signed-in user: on `/api/`, from an API token when the request carries
    /// `Authorization: Bearer` (a token that is not valid is refused, never taken for a
    /// visitor); otherwise from the session cookie. Gives a visitor a CSRF cookie.
    private func authenticate(_ context: RequestContext) throws {
        let secure = services.configuration.isHTTPS
        let request = context.request
        if request.path.hasPrefix("/api/"), let authorization = request.headers["authorization"] {
            let parts = authorization.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, parts[0].lowercased() == "bearer",
                  let (token, user) = try services.stores.apiTokens.resolve(token: String(parts[1]).trimmingSpaces()) else {
                throw HTTPError(.unauthorized, code: "invalid_token",
                                "This API token is not valid: unknown, revoked, or its user is disabled. Send Authorization: Bearer itk_…")
            }
            context.user = user
            context.apiToken = token
            return
        }
        let sessionCookie = CookieNames.session(secure: secure)
        if let token = request.cookies[sessionCookie] {
            if let (session, user) = try services.stores.sessions.resolve(token: token) {
                context.session = session
                context.user = user
                context.csrfToken = session.csrfToken
                context.csrfTokenSent = true
            } else {
                context.setCookie(SetCookie(name: sessionCookie, value: "", maxAge: 0, secure: secure))
            }
        }
        if context.session == nil {
            let csrfCookie = CookieNames.csrf(secure: secure)
            if let existing = request.cookies[csrfCookie], existing.utf8.count == 43,
               existing.utf8.allSatisfy({ $0 == 45 || $0 == 95 || (48...57).contains($0) || (65...90).contains($0) || (97...122).contains($0) }) {
                context.csrfToken = existing
                context.csrfTokenSent = true
            }
            // Otherwise the first read of `context.csrfToken` makes one and sets its cookie.
        }
        if request.method == .get, !request.prefersJSON, let flash = Flash.read(request, key: services.secretKey) {
            context.flash = flash
            context.setCookie(Flash.clearing(secure: secure))
        }
    }

    /// Cookies and the security headers every response carries.
    private func finish(_ response: inout Response, _ context: RequestContext) {
        if response.status == .unauthorized, context.request.path.hasPrefix("/api/") || context.request.path == "/metrics" {
            // RFC 6750: how to authenticate, and why a token sent was refused.
            response.headers.set("www-authenticate", context.request.headers["authorization"] == nil
                                 ? "Bearer realm=\"intake\"" : "Bearer realm=\"intake\", error=\"invalid_token\"")
        }
        for cookie in context.cookies { response.headers.add("set-cookie", cookie.headerValue) }
        response.headers.set("x-content-type-options", "nosniff")
        response.headers.set("referrer-policy", "same-origin")
        // A download or preview brings its own (sandboxing) policy and framing (DownloadHeaders).
        if response.headers["content-security-policy"] == nil {
            response.headers.set("x-frame-options", "DENY")
            response.headers.set("content-security-policy",
                                 "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")
        }
    }
}
