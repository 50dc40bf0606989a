import Foundation
import Integrations
import Intake
import Web

/// The storage JSON API with the seed's request and response shapes. Errors are
/// `{"error":{"code":…,"message":…}}`; scripts send the CSRF token as `X-CSRF-Token`.
enum StorageAPIHandler {
    /// `GET /api/storage/accounts`: OAuth accounts with their storage account and state.
    static func accounts(_ context: RequestContext) throws -> Response {
        .json(["accounts": .array(try accountList(context))])
    }

    static func accountList(_ context: RequestContext) throws -> [JSONValue] {
        try context.services.stores.storageAccountManager.connections(userID: context.user!.id).map { c in
            [
                "provider": .string(c.provider.rawValue),
                "providerAccountId": .string(c.providerAccountID),
                "email": c.email.map(JSONValue.string) ?? .null,
                "name": c.name.map(JSONValue.string) ?? .null,
                "isConnected": .bool(c.storageStatus == .active),
                "storageAccountId": c.storageAccountID.map { .string(String($0)) } ?? .null,
                "storageStatus": c.storageStatus.map { .string($0.rawValue) } ?? .null,
                "isAuthAccount": false,
                // True only while the provider's last answer honoured the grant (issue 12 item 6).
                "hasValidOAuth": .bool(c.grant == .valid),
                // What is known of the grant: valid, unchecked (the provider could not be asked),
                // refused (by the provider: reconnect) or none (none held: reconnect).
                "oauthStatus": .string(c.grant.rawValue),
            ]
        }
    }

    /// `GET /api/v1/storage`: the same, after creating any missing storage accounts (never
    /// reactivating a disconnected one), with what that did.
    static func overview(_ context: RequestContext) throws -> Response {
        let services = context.services
        let summary = try services.stores.storageAccountManager
            .ensureStorageAccounts(userID: context.user!.id, respectDisconnected: true, by: AdminForms.actor(context))
        let active = try services.stores.storageAccounts.list(userID: context.user!.id).filter { $0.status == .active }
        return .json([
            "accounts": .array(try accountList(context)),
            "activeStorageAccounts": .array(active.map { a in
                ["id": .string(String(a.id)), "provider": .string(a.provider.rawValue), "providerAccountId": .string(a.providerAccountID),
                 "displayName": .string(a.displayName), "email": a.email.map(JSONValue.string) ?? .null, "status": .string(a.status.rawValue)]
            }),
            "fallbackInfo": ["accountsCreated": .int(Int64(summary.created)), "accountsReactivated": .int(Int64(summary.reactivated)),
                             "accountsValidated": .int(Int64(summary.validated)), "errors": .array(summary.errors.map(JSONValue.string))],
        ])
    }

    /// `POST /api/storage/deactivate` `{"provider":"google_drive"}` (or `"storageAccountId"`), with
    /// `"action"`: `"pause"` (the default; INACTIVE, files stay reachable) or `"disconnect"` (the
    /// grant revoked at the provider and its tokens dropped: DISCONNECTED; `providerRevoked` says
    /// whether the provider could be told).
    static func deactivate(_ context: RequestContext) throws -> Response {
        let services = context.services
        let body = try JSONBody.object(context)
        let account = try account(context, body)
        switch body["action"] as? String ?? "pause" {
        case "pause":
            let result = try services.stores.storageAccounts.handleStatusChange(accountID: account.id, event: .ownerDeactivates,
                                                                                 reason: "paused by its owner", by: AdminForms.actor(context))
            return .json(["message": "Storage account deactivated successfully", "deactivatedPortals": .int(Int64(result.deactivatedPortals))])
        case "disconnect":
            let done: (result: PortalManagementResult, revocation: AccessTokens.Revocation)
            do {
                done = try services.stores.storageAccountManager.disconnect(account, tokens: try services.accessTokens(), by: AdminForms.actor(context))
            } catch let error as OAuthError {
                // Only when the account's refresh lease could not be had: nothing was changed.
                throw HTTPError(.serviceUnavailable, code: "busy", "\(account.displayName) was not disconnected: \(error). Nothing was changed; try again.")
            }
            let message = StorageSettingsHandler.disconnectMessage(context, account, done.result, done.revocation)
            return .json(["message": .string(done.revocation.providerTold ? "Storage account disconnected successfully" : message),
                          "deactivatedPortals": .int(Int64(done.result.deactivatedPortals)),
                          "providerRevoked": .bool(done.revocation.providerTold)])
        default:
            throw HTTPError.badRequest("action must be pause or disconnect.", code: "invalid_action")
        }
    }

    /// `POST /api/storage/reactivate`: a paused account at once; a DISCONNECTED or ERROR one only
    /// if a token refresh succeeds now (409 `reconnect_required` when the provider refuses or no
    /// grant is held, 503 `provider_unavailable` when it cannot be reached; nothing changes).
    static func reactivate(_ context: RequestContext) throws -> Response {
        let services = context.services
        let account = try account(context, try JSONBody.object(context))
        let outcome = try services.stores.storageAccountManager.reactivate(account, tokens: try services.accessTokens(), by: AdminForms.actor(context))
        switch outcome {
        case .reactivated(let result):
            return .json(["message": "Storage account reactivated successfully", "reactivatedPortals": .int(Int64(result.reactivatedPortals))])
        case .reconnectRequired(let why):
            throw HTTPError(.conflict, code: "reconnect_required", StorageSettingsHandler.reconnectMessage(account, why))
        case .providerUnavailable(let why):
            throw HTTPError(.serviceUnavailable, code: "provider_unavailable",
                            "\(account.displayName) was not reactivated: \(why). Nothing was changed; try again shortly.")
        }
    }

    /// `POST /api/storage/fix-accounts`: missing storage accounts created; a disconnected one
    /// comes back only if its provider still honours the grant (otherwise it is listed in
    /// `errors`, with the advice to reconnect).
    static func fix(_ context: RequestContext) throws -> Response {
        let services = context.services
        let before = try portalStates(context)
        let summary = try services.stores.storageAccountManager.ensureStorageAccounts(
            userID: context.user!.id, respectDisconnected: false, tokens: try services.accessTokens(), by: AdminForms.actor(context))
        let moved = try changes(before, try portalStates(context))
        return .json(["message": "Storage accounts fixed successfully", "summary": [
            "created": .int(Int64(summary.created)), "reactivated": .int(Int64(summary.reactivated)), "validated": .int(Int64(summary.validated)),
            "errors": .array(summary.errors.map(JSONValue.string)), "reactivatedPortals": .int(Int64(moved.reactivated)),
        ]])
    }

    /// `POST /api/storage/sync-oauth-status`.
    static func sync(_ context: RequestContext) throws -> Response {
        let services = context.services
        let before = try portalStates(context)
        _ = try services.stores.storageAccountManager.syncOAuthStatus(
            userID: context.user!.id, tokens: try services.accessTokens(), providers: services.configuration.oauthProviders,
            http: try services.curl(), by: AdminForms.actor(context))
        let moved = try changes(before, try portalStates(context))
        return .json(["message": "Storage accounts synced successfully",
                      "summary": ["deactivatedPortals": .int(Int64(moved.deactivated)), "reactivatedPortals": .int(Int64(moved.reactivated))]])
    }

    /// `POST /api/storage/refresh-token` `{"provider":"google"}`: a valid access token for the
    /// account, refreshed when it expires within five minutes (the token itself is never sent).
    static func refreshToken(_ context: RequestContext) throws -> Response {
        let services = context.services
        let body = try JSONBody.object(context)
        guard let provider = body["provider"] as? String, let kind = StorageProviderKind(named: provider)?.oauth else {
            throw HTTPError.badRequest("provider must be google or dropbox.", code: "invalid_provider")
        }
        let ids = try context.stores.oauthAccounts.ids(userID: context.user!.id, provider: kind)
        guard let id = ids.first else { throw HTTPError(.notFound, code: "not_connected", "No \(kind.rawValue) account is connected.") }
        do {
            _ = try services.accessTokens().validAccessToken(oauthAccountID: id, actor: AdminForms.actor(context))
        } catch let error as OAuthError {
            switch error {
            case .revoked: throw HTTPError(.conflict, code: "storage_disconnected", "Access was revoked; the account is now disconnected. Reconnect it.")
            case .temporary: throw HTTPError(.serviceUnavailable, code: "provider_unavailable", "The provider cannot be reached; try again shortly.")
            case .refused: throw HTTPError(HTTPStatus(502, "Bad Gateway"), code: "provider_refused", "The provider refused the refresh.")
            }
        }
        let expires = try context.stores.oauthAccounts.accessTokenExpiry(id: id) ?? 0
        return .json(["success": true, "provider": .string(kind.rawValue), "expiresAt": .int(expires)])
    }

    // MARK: helpers

    /// The user's storage account the body names (`storageAccountId`, or the only one of `provider`).
    private static func account(_ context: RequestContext, _ body: [String: Any]) throws -> StorageAccount {
        let mine = try context.services.stores.storageAccounts.list(userID: context.user!.id)
        if let id = (body["storageAccountId"] as? String).flatMap(Int64.init) ?? (body["storageAccountId"] as? Int).map(Int64.init) {
            guard let found = mine.first(where: { $0.id == id }) else { throw HTTPError(.notFound, code: "not_found", "There is no such storage account.") }
            return found
        }
        guard let raw = body["provider"] as? String, let kind = StorageProviderKind(rawValue: raw) else {
            throw HTTPError.badRequest("Send provider (google_drive, dropbox or local) or storageAccountId.", code: "invalid_provider")
        }
        let matching = mine.filter { $0.provider == kind }
        guard let only = matching.first else { throw HTTPError(.notFound, code: "not_found", "No \(raw) storage account is connected.") }
        guard matching.count == 1 else {
            throw HTTPError(.conflict, code: "ambiguous", "There are \(matching.count) \(raw) accounts; send storageAccountId to say which.")
        }
        return only
    }

    private static func portalStates(_ context: RequestContext) throws -> [Int64: Bool] {
        try context.stores.portals.activeStates(userID: context.user!.id)
    }

    private static func changes(_ before: [Int64: Bool], _ after: [Int64: Bool]) throws -> (deactivated: Int, reactivated: Int) {
        var off = 0, on = 0
        for (id, was) in before {
            if was && after[id] == false { off += 1 }
            if !was && after[id] == true { on += 1 }
        }
        return (off, on)
    }
}
