import Database
import Integrations

/// The OAuth accounts (identities at a provider with their sealed tokens) as lists and pages
/// need them; tokens themselves are read only through `AccessTokens`.
public struct OAuthAccounts {
    let db: Database

    /// The user's accounts at `provider`, oldest first.
    public func ids(userID: Int64, provider: OAuthProvider.Kind) throws -> [Int64] {
        try db.query("SELECT id FROM oauth_accounts WHERE user_id = $1 AND provider = $2 ORDER BY id", [userID, provider.rawValue])
            .map { try $0.get("id", as: Int64.self) }
    }

    /// When the account's access token expires (epoch seconds), if one is held.
    public func accessTokenExpiry(id: Int64) throws -> Int64? {
        try db.scalar("SELECT access_token_expires_at FROM oauth_accounts WHERE id = $1", [id], as: Int64?.self) ?? nil
    }
}
