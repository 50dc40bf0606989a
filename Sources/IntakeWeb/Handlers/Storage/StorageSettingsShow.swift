import Integrations
import Intake
import Templates
import Web

/// `GET /dashboard/settings`: the user's connected storage in plain words — each account's state
/// ("Connected", "Paused", …), whether Intake's access holds, its files, and the actions its state
/// allows, each saying what it does to portals and files (Pause uploads, Resume uploads, Check
/// again, Reconnect, Disconnect; local disk is never disconnected) — plus connecting a provider
/// (or, where none is configured, who can set it up) and one "Check again" for all of it. Each a
/// CSRF-protected form post answered with a flash.
enum StorageSettingsShow {
    static func handle(_ context: RequestContext) throws -> Response {
        try page(context)
    }

    /// The page; `moveForm` keeps the "Move files" form's values and errors.
    static func page(_ context: RequestContext, moveForm: FormState = FormState(), status: HTTPStatus = .ok) throws -> Response {
        let services = context.services
        let user = context.user!
        let accounts = try services.stores.storageAccounts.list(userID: user.id)
        var grants: [Int64: OAuthGrantState] = [:]
        for connection in try services.stores.storageAccountManager.connections(userID: user.id) {
            if let id = connection.storageAccountID { grants[id] = connection.grant }
        }
        let providers = services.configuration.oauthProviders
        // The accounts whose portals have a backup: while they fail, those portals keep taking files.
        let backedUp = Set(try services.stores.portals.list(userID: user.id).compactMap { $0.portal.backupStorageAccountID == nil ? nil : $0.portal.storageAccountID })
        let moving = try MigrationPage.section(context, accounts: accounts, form: moveForm)
        return try PageView.render(context, "dashboard/settings", title: "Storage", status: status, moving.merging([
            "accounts": .list(accounts.map { account in
                let isLocal = account.provider == .local
                let grant = grants[account.id]
                let indicator = StorageStatusIndicator(status: account.status, legacy: !isLocal && grant == nil)
                let status = account.status
                return [
                    "id": .int(account.id), "name": .string(account.displayName), "email": account.email.map { .string($0) } ?? .null,
                    "provider": .string(account.provider.displayName),
                    "providerKind": .string(account.provider.oauth?.rawValue ?? ""),
                    "access": .string(accessText(grant ?? .none, provider: account.provider.displayName)),
                    "accessFine": .bool(grant == .valid),
                    "isLocal": .bool(isLocal),
                    "indicator": .string(indicator.colour), "indicatorLabel": .string(indicator.label),
                    "meaning": .string(meaning(status, provider: account.provider.displayName, isLocal: isLocal)
                                       + (status.failsOver && backedUp.contains(account.id) ? " Portals with a backup account send new files to it meanwhile." : "")),
                    "lastError": account.lastError.map { .string($0) } ?? .null,
                    "files": .string("\(Counted.text(account.uploadedFiles, "file")), \(ByteSize(bytes: account.uploadedBytes))"),
                    "canPause": .bool(status == .active),
                    "canDisconnect": .bool(!isLocal && status != .disconnected),
                    "canResume": .bool(status == .inactive),
                    // A disconnected cloud account can be tried again only while a refused grant is still held.
                    "canCheckAgain": .bool(status == .error || (status == .disconnected && (isLocal || grant == .refused))),
                    "canReconnect": .bool(!isLocal && (status == .disconnected || status == .error)),
                ]
            }),
            "hasAccounts": .bool(!accounts.isEmpty),
            "providers": .list([OAuthProvider.Kind.google, .dropbox].map { kind in
                ["kind": .string(kind.rawValue), "label": .string(StorageProviderKind(kind).displayName),
                 "configured": .bool(providers[kind]?.isConfigured == true), "settings": .string(settingNames[kind] ?? ""),
                 "another": .bool(accounts.contains { $0.provider.oauth == kind })]
            }),
            "isAdmin": .bool(user.role == .admin),
        ]) { $1 })
    }

    /// The operator's settings that offer a provider (README: Configuration).
    static let settingNames: [OAuthProvider.Kind: String] = [
        .google: "INTAKE_GOOGLE_CLIENT_ID and INTAKE_GOOGLE_CLIENT_SECRET",
        .dropbox: "INTAKE_DROPBOX_APP_KEY and INTAKE_DROPBOX_APP_SECRET",
    ]

    /// What the account's state means for its portals and files.
    static func meaning(_ status: StorageAccountStatus, provider: String, isLocal: Bool) -> String {
        switch status {
        case .active: return "Its portals take uploads; its files can be downloaded."
        case .inactive: return "Paused: its portals take no uploads until you resume; its files can still be downloaded."
        case .disconnected: return isLocal ? "Switched off: its portals take no uploads and its files are unavailable until you resume."
            : "Intake has no access to \(provider): its portals take no uploads and its files are unavailable here until you reconnect. Nothing was deleted at \(provider)."
        case .error: return "\(provider) could not be reached: its portals take no uploads and its files are unavailable until it answers again. Intake keeps checking by itself."
        }
    }

    /// Whether Intake's access to the provider holds, in words.
    static func accessText(_ grant: OAuthGrantState, provider: String) -> String {
        switch grant {
        case .valid: return "\(provider) accepts Intake's access."
        case .unchecked: return "Not confirmed yet: \(provider) could not be asked."
        case .refused: return "\(provider) refused Intake's access (the permission was removed there): reconnect."
        case .none: return "Intake holds no access to \(provider): reconnect."
        }
    }
}
