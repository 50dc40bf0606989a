import Database
import Intake
import Logging

/// What a handler gets besides the request: the configuration and this thread's database
/// connection. Confined to one accept thread, like the connection it holds.
public final class RequestContext {
    public let configuration: Configuration
    public let database: Database
    public let logger: Logger

    public init(configuration: Configuration, database: Database, logger: Logger) {
        self.configuration = configuration
        self.database = database
        self.logger = logger
    }
}
