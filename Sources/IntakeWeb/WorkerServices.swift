import Database
import Intake
import Logging
import Templates

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

    public var users: UserStore { UserStore(db: database, clock: clock) }
    public var sessions: SessionStore { SessionStore(db: database, clock: clock, policy: sessionPolicy) }
}
