import Curl
import Database
import Foundation
import Intake
import IntakeWeb
import Integrations
import Logging
import Templates

/// The one place the object graph is built. Each thread that serves requests or delivers files
/// gets its own database connection and HTTP client, and from them the storage providers (local
/// disk under `INTAKE_STORAGE_DIR/<account id>`; Google Drive and Dropbox through their APIs with
/// the account's OAuth tokens, refreshed as they near expiry and renewed once when refused), the
/// token refresher and the scanner.
enum Wiring {
    /// A thread's services over a new connection to the configured database, counting into the
    /// process's `metrics`.
    static func services(_ configuration: Configuration, templates: TemplateLibrary, logger: Logger, secretKey: [UInt8],
                         metrics: SiteMetrics) throws -> WorkerServices {
        let database = try configuration.database.open()
        let clock = SystemClock()
        let thread = ThreadParts(configuration: configuration, database: database, clock: clock, secretKey: secretKey,
                                 onStatusChange: WorkerServices.statusLog(logger), counters: metrics)
        return WorkerServices(configuration: configuration, database: database, templates: templates, logger: logger, clock: clock,
                              secretKey: secretKey, parts: thread.parts, metrics: metrics)
    }

    /// The jobs runner over a new connection, with the storage providers it deletes through
    /// (the over-quota policy) wired as a worker's are, and the storage health checks' provider
    /// check on the same connection and libcurl handle.
    static func jobs(_ configuration: Configuration, secretKey: [UInt8], logger: Logger, counters: any OperationCounters = .none) throws -> Jobs {
        let database = try configuration.database.open()
        let clock = SystemClock()
        let thread = ThreadParts(configuration: configuration, database: database, clock: clock, secretKey: secretKey,
                                 onStatusChange: WorkerServices.statusLog(logger), counters: counters)
        return Jobs(db: database, clock: clock, holder: JobRunner.holder, configuration: configuration,
                    provider: { try thread.storageProvider(for: $0) }, storageHealthCheck: { try thread.healthCheck($0, by: $1) },
                    onStatusChange: WorkerServices.statusLog(logger), counters: counters, secretKey: secretKey)
    }
}

extension Wiring {
    /// What the operator commands (`intake diagnose`, `fix-accounts`, …) work with: the
    /// database (refused unless it exists and is migrated), a clock, and — built on first use — the token refresher, the storage
    /// providers and the grant check that ask the providers.
    final class Operator {
        let configuration: Configuration
        let database: Database
        let clock: EpochClock = SystemClock()
        private let parts: ThreadParts
        /// The actor operator commands record in the audit log: no user, the command's name.
        let actor: AuditLog.Actor

        init(command: String) throws {
            configuration = Startup.configuration()
            try Startup.ensureHome(configuration)
            // Never created or migrated here: a newer binary must not change the schema under
            // the workers serving it. `intake migrate` (or `intake serve`) does that.
            if case .sqlite(let path) = configuration.database, !FileManager.default.fileExists(atPath: path) {
                Startup.fail("no database at \(path); run `intake migrate` first", code: OperatorExit.problem)
            }
            database = try configuration.database.open()
            let pending = try Schema.migrator.pendingVersions(database)
            guard pending.isEmpty else {
                Startup.fail("the database lacks migrations \(pending.map(String.init).joined(separator: ", ")); run `intake migrate` first",
                             code: OperatorExit.problem)
            }
            parts = ThreadParts(configuration: configuration, database: database, clock: clock,
                                secretKey: try SecretKeyStore.load(configuration.secretKeySource), onStatusChange: { _ in })
            actor = AuditLog.Actor(userID: nil, remoteAddress: "intake \(command)")
        }

        var stores: Stores { Stores(db: database, clock: clock, secretKey: [], currency: configuration.currency) }

        func accessTokens() throws -> AccessTokens { try parts.accessTokens() }

        func storageProvider(for account: StorageAccount) throws -> StorageProvider { try parts.storageProvider(for: account) }

        /// Asks each provider about a cloud account's grant (a token call, then the identity call).
        func grantCheck() throws -> StorageDiagnostics.GrantCheck {
            let parts = parts, actor = actor
            return { account in (try? parts.healthCheck(account, by: actor)) ?? .notChecked("the check could not be made") }
        }

        /// The user with this e-mail, or exit 64 naming it.
        func user(email: String) throws -> User {
            guard let found = try stores.users.findForSignIn(email: email) else { Startup.fail("no account with the e-mail \(email)", code: 64) }
            return found.user
        }
    }
}

/// What one thread wires: its libcurl handle, made on first use and kept for connection reuse,
/// and what is built on it. Confined to that thread.
private final class ThreadParts {
    let configuration: Configuration
    let database: Database
    let clock: EpochClock
    let secretKey: [UInt8]
    let onStatusChange: (StorageAccountStatusChange) -> Void
    /// Hears how token refreshes end (the metrics' counters; none for the operator commands).
    let counters: any OperationCounters
    private var curlClient: CurlClient?

    init(configuration: Configuration, database: Database, clock: EpochClock, secretKey: [UInt8],
         onStatusChange: @escaping (StorageAccountStatusChange) -> Void, counters: any OperationCounters = .none) {
        self.configuration = configuration
        self.database = database
        self.clock = clock
        self.secretKey = secretKey
        self.onStatusChange = onStatusChange
        self.counters = counters
    }

    var parts: WorkerServices.Parts {
        WorkerServices.Parts(http: { try self.curl() }, storageProvider: { try self.storageProvider(for: $0) },
                             accessTokens: { try self.accessTokens() }, healthCheck: { try self.healthCheck($0, by: $1) },
                             scanner: configuration.clamdSocket.map { ClamdScanner(socketPath: $0) })
    }

    func curl() throws -> CurlClient {
        if let curlClient { return curlClient }
        let made = try CurlClient()
        curlClient = made
        return made
    }

    /// Access tokens; each refresher holds the account's refresh lease under its own name.
    func accessTokens() throws -> AccessTokens {
        AccessTokens(db: database, clock: clock, secretKey: secretKey, providers: configuration.oauthProviders, http: try curl(),
                     onStatusChange: onStatusChange, counters: counters)
    }

    func storageProvider(for account: StorageAccount) throws -> StorageProvider {
        switch account.provider {
        case .local: return LocalDiskStorage(root: configuration.storageDirectory + "/\(account.id)")
        case .googleDrive, .dropbox: return try cloudStorage(account)
        }
    }

    /// The storage health check of an account: a local disk by its folder (under
    /// `INTAKE_STORAGE_DIR`), a cloud account by a token and the provider's identity call.
    func healthCheck(_ account: StorageAccount, by actor: AuditLog.Actor) throws -> HealthProbe {
        switch account.provider {
        case .local:
            return LocalDiskStorage(root: configuration.storageDirectory + "/\(account.id)").whyUnreachable().map(HealthProbe.unreachable) ?? .reachable
        case .googleDrive, .dropbox:
            // One attempt: a provider that does not answer is asked again at the next backoff step,
            // not retried here while the jobs pass waits.
            return ProviderHealthProbe(tokens: try accessTokens(), providers: configuration.oauthProviders, http: try curl(), retry: .never)
                .check(account, by: actor)
        }
    }

    /// Google Drive or Dropbox for a storage account. Token failures become storage errors:
    /// `AccessTokens` has already moved the account (DISCONNECTED when the grant is gone, ERROR
    /// when the provider is unreachable).
    func cloudStorage(_ account: StorageAccount) throws -> StorageProvider {
        guard let kind = account.provider.oauth else { throw StorageProviderError("not a cloud storage account", transient: false) }
        let name = account.provider.displayName
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
}
