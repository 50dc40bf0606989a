import Integrations
import Intake

/// What the owner is told after a storage account action, on the storage page and in the API.
enum StorageAccountMessages {
    /// A disconnected account cannot come back without the OAuth flow.
    static func reconnect(_ account: StorageAccount, _ why: String) -> String {
        "\(account.displayName) cannot be reactivated: \(why). Nothing was changed. Reconnect it (sign in to \(account.provider.displayName) again) to use it again."
    }

    /// After a disconnect; a provider that could not be told is logged.
    static func disconnect(_ context: RequestContext, _ account: StorageAccount, _ result: PortalManagementResult,
                           _ revocation: AccessTokens.Revocation) -> String {
        let provider = account.provider.displayName
        let portals = "\(Counted.text(result.deactivatedPortals, "portal")) stopped accepting uploads and its files are unavailable until you reconnect."
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
}
