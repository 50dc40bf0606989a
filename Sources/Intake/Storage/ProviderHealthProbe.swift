import Curl
import Integrations

/// The health check of a cloud storage account, read-only and cheap: a valid access token through
/// `AccessTokens` (refreshed when it nears expiry — a refresh moves the account by the provider's
/// answer itself, as every refresh does), then the identity call (Google's userinfo, Dropbox's
/// `users/get_current_account`), as `StorageAccountManager.syncOAuthStatus` does. An access
/// token the identity call refuses is dropped and the check made once more with a refreshed
/// one: only the token endpoint decides that the grant is gone.
public struct ProviderHealthProbe {
    let tokens: AccessTokens
    let providers: [OAuthProvider.Kind: OAuthProvider]
    let http: any HTTPTransport
    let retry: RetryPolicy

    public init(tokens: AccessTokens, providers: [OAuthProvider.Kind: OAuthProvider], http: any HTTPTransport, retry: RetryPolicy = RetryPolicy()) {
        self.tokens = tokens
        self.providers = providers
        self.http = http
        self.retry = retry
    }

    /// What the provider says of `account`; never throws (what cannot be asked is `.notChecked`).
    public func check(_ account: StorageAccount, by actor: AuditLog.Actor) -> HealthProbe {
        let name = account.provider.displayName
        guard let kind = account.provider.oauth else { return .notChecked("a local disk has no provider to ask") }
        guard let provider = providers[kind], provider.isConfigured else { return .notChecked("\(name) is not configured on this server") }
        do {
            guard let oauthID = try tokens.oauthAccountID(for: account), try tokens.holdsGrant(oauthAccountID: oauthID) else {
                return .refused("Intake no longer holds access to it")
            }
            try StorageAccountManager.askProvider(oauthAccountID: oauthID, provider: provider, tokens: tokens, http: http, retry: retry, by: actor)
            return .reachable
        } catch let error as OAuthError {
            switch error {
            case .revoked(let code): return .refused("\(name) refused access: \(code)")
            case .temporary(let code): return .unreachable("\(name) could not be reached: \(code)")
            case .refused(let status, let code): return .notChecked("\(name) refused this server's request (\(status), \(code))")
            }
        } catch {
            return .notChecked("\(error)")
        }
    }
}
