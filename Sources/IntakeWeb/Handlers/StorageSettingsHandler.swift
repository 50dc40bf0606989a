import Integrations
import Intake
import Templates
import Web

/// `/dashboard/settings`: the user's connected storage, with connect, disconnect, reactivate,
/// fix storage and sync OAuth status, each a CSRF-protected form post answered with a flash.
enum StorageSettingsHandler {
    static func show(_ context: RequestContext) throws -> Response {
        let services = context.services
        let user = context.user!
        let accounts = try StorageAccountStore(db: services.database, clock: services.clock).list(userID: user.id)
        let oauth = try services.database.query("""
            SELECT provider, provider_account_id, refresh_token_sealed IS NOT NULL AS has_refresh FROM oauth_accounts WHERE user_id = $1
            """, [user.id])
        var oauthValid: [String: Bool] = [:]
        for row in oauth {
            oauthValid[try row.get("provider_account_id", as: String.self)] = try row.get("has_refresh", as: Bool.self)
        }
        let providers = services.configuration.oauthProviders
        return try PageView.render(context, "dashboard/settings", title: "Storage", [
            "accounts": .list(accounts.map { account in
                let linked = account.provider == .local || oauthValid[account.providerAccountID] != nil
                let indicator = Indicator(status: account.status, legacy: !linked)
                return [
                    "id": .int(account.id), "name": .string(account.displayName), "email": account.email.map { .string($0) } ?? .null,
                    "provider": .string(label(account.provider)),
                    "oauthValid": .bool(account.provider == .local || oauthValid[account.providerAccountID] == true),
                    "isLocal": .bool(account.provider == .local),
                    "status": .string(account.status.rawValue), "indicator": .string(indicator.colour), "indicatorLabel": .string(indicator.label),
                    "lastError": account.lastError.map { .string($0) } ?? .null,
                    "canDisconnect": .bool(account.status == .active || account.status == .inactive),
                    "canReactivate": .bool(account.status == .inactive || account.status == .disconnected),
                ]
            }),
            "hasAccounts": .bool(!accounts.isEmpty),
            "providers": .list([OAuthProvider.Kind.google, .dropbox].map { kind in
                ["kind": .string(kind.rawValue), "label": .string(kind == .google ? "Google Drive" : "Dropbox"),
                 "configured": .bool(providers[kind]?.isConfigured == true)]
            }),
        ])
    }

    /// The seed's indicator: green Connected, yellow Inactive, red Unavailable (DISCONNECTED),
    /// orange Unavailable (ERROR), grey Legacy (no OAuth account behind it).
    struct Indicator {
        let colour: String
        let label: String
        init(status: StorageAccountStatus, legacy: Bool) {
            if legacy { colour = "grey"; label = "Legacy"; return }
            switch status {
            case .active: colour = "green"; label = "Connected"
            case .inactive: colour = "yellow"; label = "Inactive"
            case .disconnected: colour = "red"; label = "Unavailable"
            case .error: colour = "orange"; label = "Unavailable"
            }
        }
    }

    static func label(_ kind: StorageProviderKind) -> String {
        switch kind {
        case .googleDrive: return "Google Drive"
        case .dropbox: return "Dropbox"
        case .local: return "Local disk"
        }
    }

    /// `POST /dashboard/settings/connect`: starts the OAuth flow for `provider`.
    static func connect(_ context: RequestContext) throws -> Response {
        let services = context.services
        guard let kind = OAuthProvider.Kind(rawValue: context.formFields["provider"] ?? ""), let provider = services.configuration.oauthProviders[kind] else {
            throw HTTPError.badRequest("Choose Google Drive or Dropbox.")
        }
        guard provider.isConfigured else {
            context.flash(.error, "\(kind == .google ? "Google Drive" : "Dropbox") is not configured on this server.")
            return .redirect(to: "/dashboard/settings")
        }
        let (state, pkce) = try OAuthStates(db: services.database, clock: services.clock, secretKey: services.secretKey)
            .begin(sessionID: context.session!.id, provider: kind)
        let url = OAuthClient(provider: provider).authorizationURL(state: state, pkce: pkce, redirectURI: redirectURI(context, kind))
        return .redirect(to: url)
    }

    static func redirectURI(_ context: RequestContext, _ kind: OAuthProvider.Kind) -> String {
        context.services.configuration.baseURL + "/oauth/\(kind.rawValue)/callback"
    }

    static func deactivate(_ context: RequestContext) throws -> Response {
        try change(context, .ownerDeactivates) { "Storage account switched off; \($0.deactivatedPortals) portal(s) stopped accepting uploads." }
    }

    static func reactivate(_ context: RequestContext) throws -> Response {
        try change(context, .ownerReactivates) { "Storage account switched on; \($0.reactivatedPortals) portal(s) accept uploads again." }
    }

    private static func change(_ context: RequestContext, _ event: StorageAccountEvent, message: (PortalManagementResult) -> String) throws -> Response {
        let services = context.services
        let store = StorageAccountStore(db: services.database, clock: services.clock)
        // Another user's account id is a 404, the same as one that does not exist.
        guard let account = try store.find(id: try AdminForms.id(context)), account.userID == context.user!.id else {
            throw HTTPError(.notFound, code: "not_found", "There is no such storage account.")
        }
        do {
            let result = try store.handleStatusChange(accountID: account.id, event: event, reason: "by its owner", by: AdminForms.actor(context))
            context.flash(.success, message(result))
        } catch let refused as StorageAccountTransitions.Refused {
            context.flash(.error, "This cannot be done now: \(refused).")
        }
        return .redirect(to: "/dashboard/settings")
    }

    /// `POST /dashboard/settings/fix`: storage accounts for OAuth accounts that lack one.
    static func fix(_ context: RequestContext) throws -> Response {
        let services = context.services
        let summary = try StorageAccountManager(db: services.database, clock: services.clock)
            .ensureStorageAccounts(userID: context.user!.id, respectDisconnected: false, by: AdminForms.actor(context))
        context.flash(summary.errors.isEmpty ? .success : .error,
                      "Storage checked: \(summary.created) created, \(summary.reactivated) reactivated, \(summary.validated) fine"
                          + (summary.errors.isEmpty ? "." : "; problems: \(summary.errors.joined(separator: "; "))"))
        return .redirect(to: "/dashboard/settings")
    }

    /// `POST /dashboard/settings/sync`: asks each provider whether access still holds.
    static func sync(_ context: RequestContext) throws -> Response {
        let services = context.services
        let result = try StorageAccountManager(db: services.database, clock: services.clock).syncOAuthStatus(
            userID: context.user!.id, tokens: try services.accessTokens(), providers: services.configuration.oauthProviders,
            curl: try services.curl(), by: AdminForms.actor(context))
        if result.failures.isEmpty {
            context.flash(.success, "\(result.checked) connection(s) checked; all fine.")
        } else {
            context.flash(.error, "\(result.checked) connection(s) checked; \(result.failures.count) need attention. See the status below.")
        }
        return .redirect(to: "/dashboard/settings")
    }
}

/// `GET /oauth/:provider/callback`: the provider sends the browser back here. Denied consent, a
/// forged, reused or expired state, or a failed code exchange show a clear page and change nothing.
enum OAuthCallbackHandler {
    static func callback(_ context: RequestContext) throws -> Response {
        let services = context.services
        guard let kind = OAuthProvider.Kind(rawValue: context.request.parameters["provider"] ?? ""),
              let provider = services.configuration.oauthProviders[kind], provider.isConfigured else {
            throw HTTPError(.notFound, code: "not_found", "There is no such provider.")
        }
        let name = kind == .google ? "Google Drive" : "Dropbox"
        let query = try context.request.query()
        let states = OAuthStates(db: services.database, clock: services.clock, secretKey: services.secretKey)
        if let error = query["error"] {
            _ = try states.finish(state: query["state"] ?? "", sessionID: context.session!.id, provider: kind)
            throw HTTPError(.badRequest, code: "oauth_denied",
                            error == "access_denied" ? "You did not allow Intake to use your \(name). Nothing was connected."
                                                     : "\(name) refused the connection (\(error.prefix(60))). Nothing was connected.")
        }
        guard let pkce = try states.finish(state: query["state"] ?? "", sessionID: context.session!.id, provider: kind) else {
            throw HTTPError(.badRequest, code: "oauth_state",
                            "This connection link has expired, was already used, or was not started from this browser. Nothing was connected; start again from the storage page.")
        }
        guard let code = query["code"], !code.isEmpty else {
            throw HTTPError.badRequest("\(name) sent no authorization code. Nothing was connected.")
        }
        let oauth = OAuthClient(provider: provider)
        let curl = try services.curl()
        let grant: TokenGrant
        let identity: ProviderIdentity
        do {
            grant = try oauth.exchange(code: code, pkce: pkce, redirectURI: StorageSettingsHandler.redirectURI(context, kind), client: curl)
            identity = try oauth.identity(accessToken: grant.accessToken, client: curl)
        } catch let error as OAuthError {
            services.logger.warning("oauth exchange failed", metadata: ["request_id": "\(context.request.id)", "error": "\(error)"])
            throw HTTPError(HTTPStatus(502, "Bad Gateway"), code: "oauth_exchange",
                            "\(name) did not complete the connection. Nothing was connected; please try again.")
        }
        let user = context.user!
        try services.database.write {
            _ = try services.accessTokens().store(userID: user.id, provider: kind, identity: identity, grant: grant,
                                                  scopes: grant.scope ?? provider.scopes.joined(separator: " "))
            let result = try StorageAccountStore(db: services.database, clock: services.clock).createOrGet(
                userID: user.id, provider: StorageAccountManager.storageKind(kind), providerAccountID: identity.accountID,
                email: identity.email, displayName: name + (identity.email.map { " (\($0))" } ?? ""), by: AdminForms.actor(context))
            context.flash(.success, result.created ? "\(name) connected." : result.reactivated ? "\(name) reconnected; its portals accept uploads again." : "\(name) is connected.")
        }
        return .redirect(to: "/dashboard/settings")
    }
}
