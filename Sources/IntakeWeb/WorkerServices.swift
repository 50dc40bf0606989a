import Curl
import Database
import Intake
import Integrations
import Logging
import Templates
#if canImport(Glibc)
import Glibc
#endif

/// What one accept thread serves with: the configuration, the shared template library, and this
/// thread's own database connection. Confined to that thread, like the connection.
public final class WorkerServices {
    public let configuration: Configuration
    public let database: Database
    public let templates: TemplateLibrary
    public let logger: Logger
    public let clock: Clock
    /// The key that signs flash cookies (and, later, seals secrets at rest).
    public let secretKey: [UInt8]
    public let sessionPolicy: SessionPolicy

    public init(configuration: Configuration, database: Database, templates: TemplateLibrary, logger: Logger,
                clock: Clock = SystemClock(), secretKey: [UInt8], sessionPolicy: SessionPolicy = SessionPolicy()) {
        self.configuration = configuration
        self.database = database
        self.templates = templates
        self.logger = logger
        self.clock = clock
        self.secretKey = secretKey
        self.sessionPolicy = sessionPolicy
    }

    /// The domain's stores over this thread's connection; storage account changes are logged.
    public var stores: Stores {
        Stores(db: database, clock: clock, secretKey: secretKey, currency: configuration.currency, sessionPolicy: sessionPolicy,
               onStatusChange: storageStatusLog)
    }

    /// This thread's libcurl handle, made on first use and kept for connection reuse.
    private var curlClient: CurlClient?
    public func curl() throws -> CurlClient {
        if let curlClient { return curlClient }
        let made = try CurlClient()
        curlClient = made
        return made
    }

    /// The upload pipeline's parts for this thread. Local disk stores files under
    /// `INTAKE_STORAGE_DIR/<account id>`; Google Drive and Dropbox through their APIs with the
    /// account's OAuth tokens (refreshed as they near expiry, renewed once when refused).
    public func uploadEnvironment() -> UploadEnvironment {
        UploadEnvironment(db: database, clock: clock, secretKey: secretKey, spoolDirectory: configuration.spoolDirectory,
                          scanner: configuration.clamdSocket.map { ClamdScanner(socketPath: $0) },
                          deliveryWindow: configuration.deliveryWindowSeconds) { account in
            try self.storageProvider(for: account)
        }
    }

    /// The provider holding a storage account's files, for uploads, downloads and deletes.
    public func storageProvider(for account: StorageAccount) throws -> StorageProvider {
        switch account.provider {
        case .local: return LocalDiskStorage(root: configuration.storageDirectory + "/\(account.id)")
        case .googleDrive, .dropbox: return try cloudStorage(account)
        }
    }

    /// Google Drive or Dropbox for a storage account. Token failures become storage errors:
    /// `AccessTokens` has already moved the account (DISCONNECTED when the grant is gone, ERROR
    /// when the provider is unreachable).
    func cloudStorage(_ account: StorageAccount) throws -> StorageProvider {
        let kind: OAuthProvider.Kind = account.provider == .dropbox ? .dropbox : .google
        let name = kind == .google ? "Google Drive" : "Dropbox"
        guard let oauth = configuration.oauthProviders[kind], oauth.isConfigured else {
            throw StorageProviderError("\(name) is not configured on this server", transient: false)
        }
        let tokens = try accessTokens()
        guard let oauthID = try tokens.oauthAccountID(for: account) else {
            throw StorageProviderError("the \(name) account behind this storage is no longer connected", transient: false)
        }
        let system = AuditLog.Actor(userID: nil, remoteAddress: "")
        let token: (Bool) throws -> String = { renew in
            do {
                if renew { try tokens.invalidateAccessToken(oauthAccountID: oauthID) }
                return try tokens.validAccessToken(oauthAccountID: oauthID, actor: system)
            } catch let error as OAuthError {
                if case .temporary = error { throw StorageProviderError("\(name) cannot be reached right now", transient: true) }
                throw StorageProviderError("\(name) no longer grants access to this storage; reconnect it", transient: false)
            }
        }
        switch kind {
        case .google:
            return GoogleDriveStorage(apiURL: configuration.googleDriveAPIURL, uploadURL: configuration.googleDriveUploadURL,
                                      client: try curl(), token: token)
        case .dropbox:
            return DropboxStorage(apiURL: oauth.identityURL, contentURL: configuration.dropboxContentURL, client: try curl(), token: token)
        }
    }

    /// Access tokens, refreshed under a lease held in this thread's name.
    public func accessTokens() throws -> AccessTokens {
        AccessTokens(db: database, clock: clock, secretKey: secretKey, providers: configuration.oauthProviders, curl: try curl(),
                     holder: "\(ProcessIdentity.current)-\(ObjectIdentifier(self).hashValue)", onStatusChange: storageStatusLog)
    }


    /// One log line per storage account status change, beside its audit entry: the account, the
    /// states before and after, the event and the reason (Intake's words and providers' error
    /// codes, never a token), and what it did to the account's portals.
    public var storageStatusLog: (StorageAccountStatusChange) -> Void {
        let logger = self.logger
        return { change in
            logger.notice("storage account status changed", metadata: [
                "storage_account_id": "\(change.accountID)", "provider": "\(change.provider.rawValue)",
                "from": "\(change.result.from.rawValue)", "to": "\(change.result.to.rawValue)", "event": "\(change.event.rawValue)",
                "reason": "\(change.reason ?? "-")", "portals_deactivated": "\(change.result.deactivatedPortals)",
                "portals_reactivated": "\(change.result.reactivatedPortals)",
            ])
        }
    }
}

/// This process, for lease holders.
enum ProcessIdentity {
    static let current: String = {
        #if canImport(Glibc)
        return "pid\(getpid())"
        #else
        return "pid"
        #endif
    }()
}
