import Integrations

extension StorageAccountManager {
    /// The end of the OAuth flow, in one transaction: the tokens are stored (sealed), and the
    /// storage account is created, or brought back if it was disconnected or in error — the owner
    /// has just granted access again.
    public func connect(userID: Int64, kind: OAuthProvider.Kind, displayName: String, identity: ProviderIdentity, grant: TokenGrant,
                        scopes: String, tokens: AccessTokens, by actor: AuditLog.Actor)
        throws -> (account: StorageAccount, created: Bool, reactivated: Bool) {
        try db.write {
            _ = try tokens.store(userID: userID, provider: kind, identity: identity, grant: grant, scopes: scopes)
            return try store.createOrGet(userID: userID, provider: StorageProviderKind(kind), providerAccountID: identity.accountID,
                                         email: identity.email, displayName: displayName, reconnected: true, by: actor)
        }
    }
}
