import Integrations
import Intake
import Templates
import Web

/// `/dashboard/settings`: the user's connected storage, each account with what is known of its
/// OAuth grant and the actions its state allows — Pause uploads, Reactivate, Disconnect, Check
/// again, Reconnect — plus connect, fix storage and sync OAuth status; each a CSRF-protected form
/// post answered with a flash.
enum StorageSettingsHandler {
    static func show(_ context: RequestContext) throws -> Response {
        let services = context.services
        let user = context.user!
        let accounts = try services.stores.storageAccounts.list(userID: user.id)
        var grants: [Int64: OAuthGrantState] = [:]
        for connection in try services.stores.storageAccountManager.connections(userID: user.id) {
            if let id = connection.storageAccountID { grants[id] = connection.grant }
        }
        let providers = services.configuration.oauthProviders
        return try PageView.render(context, "dashboard/settings", title: "Storage", [
            "accounts": .list(accounts.map { account in
                let isLocal = account.provider == .local
                let grant = grants[account.id]
                let indicator = StorageStatusIndicator(status: account.status, legacy: !isLocal && grant == nil)
                let status = account.status
                return [
                    "id": .int(account.id), "name": .string(account.displayName), "email": account.email.map { .string($0) } ?? .null,
                    "provider": .string(account.provider.displayName),
                    "providerKind": .string(account.provider.oauth?.rawValue ?? ""),
                    "grant": .string((grant ?? .none).label),
                    "isLocal": .bool(isLocal),
                    "status": .string(status.rawValue), "indicator": .string(indicator.colour), "indicatorLabel": .string(indicator.label),
                    "lastError": account.lastError.map { .string($0) } ?? .null,
                    "canPause": .bool(status == .active),
                    "canDisconnect": .bool(!isLocal && status != .disconnected),
                    // A disconnected cloud account can be tried again only while a refused grant is still held.
                    "canReactivate": .bool(status == .inactive || (status == .disconnected && (isLocal || grant == .refused))),
                    "reactivateAsks": .bool(!isLocal && status == .disconnected),
                    "canCheckAgain": .bool(status == .error),
                    "canReconnect": .bool(!isLocal && (status == .disconnected || status == .error)),
                ]
            }),
            "hasAccounts": .bool(!accounts.isEmpty),
            "providers": .list([OAuthProvider.Kind.google, .dropbox].map { kind in
                ["kind": .string(kind.rawValue), "label": .string(StorageProviderKind(kind).displayName),
                 "configured": .bool(providers[kind]?.isConfigured == true)]
            }),
        ])
    }

    /// `POST /dashboard/settings/connect`: starts the OAuth flow for `provider` (Connect, and
    /// Reconnect on an account that is disconnected or in error).
    static func connect(_ context: RequestContext) throws -> Response {
        let services = context.services
        guard let kind = OAuthProvider.Kind(rawValue: context.formFields["provider"] ?? ""), let provider = services.configuration.oauthProviders[kind] else {
            throw HTTPError.badRequest("Choose Google Drive or Dropbox.")
        }
        guard provider.isConfigured else {
            context.flash(.error, "\(StorageProviderKind(kind).displayName) is not configured on this server.")
            return .redirect(to: "/dashboard/settings")
        }
        let (state, pkce) = try services.stores.oauthStates
            .begin(sessionID: context.session!.id, provider: kind)
        let url = OAuthClient(provider: provider).authorizationURL(state: state, pkce: pkce, redirectURI: redirectURI(context, kind))
        return .redirect(to: url)
    }

    static func redirectURI(_ context: RequestContext, _ kind: OAuthProvider.Kind) -> String {
        context.services.configuration.baseURL + "/oauth/\(kind.rawValue)/callback"
    }

    /// `POST /dashboard/settings/accounts/:id/deactivate` with `action`: `pause` (Pause uploads:
    /// INACTIVE, files stay reachable; the default) or `disconnect` (the grant revoked at the
    /// provider and its tokens dropped: DISCONNECTED).
    static func deactivate(_ context: RequestContext) throws -> Response {
        let services = context.services
        let account = try ownAccount(context)
        do {
            switch context.formFields["action"] ?? "pause" {
            case "pause":
                let result = try services.stores.storageAccounts.handleStatusChange(accountID: account.id, event: .ownerDeactivates,
                                                                             reason: "paused by its owner", by: AdminForms.actor(context))
                context.flash(.success, "Uploads to \(account.displayName) paused; \(result.deactivatedPortals) portal(s) stopped accepting uploads. Its files stay reachable.")
            case "disconnect":
                let done = try services.stores.storageAccountManager.disconnect(account, tokens: try services.accessTokens(), by: AdminForms.actor(context))
                let message = disconnectMessage(context, account, done.result, done.revocation)
                context.flash(done.revocation.providerTold ? .success : .error, message)
            default:
                throw HTTPError.badRequest("Choose pause or disconnect.")
            }
        } catch let refused as StorageAccountTransitions.Refused {
            context.flash(.error, "This cannot be done now: \(refused).")
        } catch let error as OAuthError {
            // Only when the account's refresh lease could not be had: nothing was changed.
            context.flash(.error, "\(account.displayName) was not disconnected: \(error). Nothing was changed; try again.")
        }
        return .redirect(to: "/dashboard/settings")
    }

    /// `POST /dashboard/settings/accounts/:id/reactivate`: Reactivate a paused account, or — for a
    /// DISCONNECTED account still holding its grant, and as Check again for one in ERROR — ask the
    /// provider (a token refresh) and bring it back only if the provider answers yes.
    static func reactivate(_ context: RequestContext) throws -> Response {
        let services = context.services
        let account = try ownAccount(context)
        do {
            switch try services.stores.storageAccountManager.reactivate(account, tokens: try services.accessTokens(), by: AdminForms.actor(context)) {
            case .reactivated(let result):
                context.flash(.success, "\(account.displayName) is active again; \(result.reactivatedPortals) portal(s) switched off with it accept uploads again and its files are reachable.")
            case .reconnectRequired(let why):
                context.flash(.error, reconnectMessage(account, why))
            case .providerUnavailable(let why):
                context.flash(.error, "\(account.displayName) was not reactivated: \(why). Nothing was changed; try Check again later.")
            }
        } catch let refused as StorageAccountTransitions.Refused {
            context.flash(.error, "This cannot be done now: \(refused).")
        }
        return .redirect(to: "/dashboard/settings")
    }

    /// The user's own storage account named by the path; another user's is a 404, the same as one
    /// that does not exist.
    private static func ownAccount(_ context: RequestContext) throws -> StorageAccount {
        guard let account = try context.services.stores.storageAccounts.find(id: try AdminForms.id(context)), account.userID == context.user!.id else {
            throw HTTPError(.notFound, code: "not_found", "There is no such storage account.")
        }
        return account
    }

    /// What the owner is told when a disconnected account cannot come back without the OAuth flow.
    static func reconnectMessage(_ account: StorageAccount, _ why: String) -> String {
        "\(account.displayName) cannot be reactivated: \(why). Nothing was changed. Reconnect it (sign in to \(account.provider.displayName) again) to use it again."
    }

    /// What the owner is told after a disconnect; a provider that could not be told is logged.
    static func disconnectMessage(_ context: RequestContext, _ account: StorageAccount, _ result: PortalManagementResult,
                                  _ revocation: AccessTokens.Revocation) -> String {
        let provider = account.provider.displayName
        let portals = "\(result.deactivatedPortals) portal(s) stopped accepting uploads and its files are unavailable until you reconnect."
        switch revocation {
        case .revoked, .alreadyGone:
            return "\(account.displayName) disconnected: \(provider) revoked Intake's access and Intake forgot its tokens; \(portals)"
        case .nothingHeld:
            return "\(account.displayName) disconnected; \(portals)"
        case .notTold(let why):
            context.services.logger.warning("storage disconnect: the provider could not be told to revoke access", metadata: [
                "request_id": "\(context.request.id)", "storage_account_id": "\(account.id)", "provider": "\(account.provider.rawValue)",
                "reason": "\(why)",
            ])
            return "\(account.displayName) disconnected here and Intake forgot its tokens, but \(provider) could not be told to revoke access (\(why)); "
                + "you can remove Intake in your \(provider) account's security settings. \(portals)"
        }
    }

    /// `POST /dashboard/settings/fix`: storage accounts for OAuth accounts that lack one; a
    /// disconnected account comes back only if its provider still honours the grant.
    static func fix(_ context: RequestContext) throws -> Response {
        let services = context.services
        let summary = try services.stores.storageAccountManager.ensureStorageAccounts(
            userID: context.user!.id, respectDisconnected: false, tokens: try services.accessTokens(), by: AdminForms.actor(context))
        context.flash(summary.errors.isEmpty ? .success : .error,
                      "Storage checked: \(summary.created) created, \(summary.reactivated) reactivated, \(summary.validated) fine"
                          + (summary.errors.isEmpty ? "." : "; problems: \(summary.errors.joined(separator: "; "))"))
        return .redirect(to: "/dashboard/settings")
    }

    /// `POST /dashboard/settings/sync`: asks each provider whether access still holds.
    static func sync(_ context: RequestContext) throws -> Response {
        let services = context.services
        let result = try services.stores.storageAccountManager.syncOAuthStatus(
            userID: context.user!.id, tokens: try services.accessTokens(), providers: services.configuration.oauthProviders,
            http: try services.curl(), by: AdminForms.actor(context))
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
        let name = StorageProviderKind(kind).displayName
        let query = try context.request.query()
        let states = services.stores.oauthStates
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
        // The owner has just been through the OAuth flow: a disconnected account (or one in error) comes back.
        let result = try context.stores.storageAccountManager.connect(
            userID: user.id, kind: kind, displayName: name + (identity.email.map { " (\($0))" } ?? ""), identity: identity, grant: grant,
            scopes: grant.scope ?? provider.scopes.joined(separator: " "), tokens: try services.accessTokens(), by: AdminForms.actor(context))
        context.flash(.success, result.created ? "\(name) connected." : result.reactivated ? "\(name) reconnected; its portals accept uploads again." : "\(name) is connected.")
        return .redirect(to: "/dashboard/settings")
    }
}
