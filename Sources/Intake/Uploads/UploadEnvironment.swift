import Database
import Foundation
import Integrations
import Spool

/// What the upload pipeline is built from, injected so tests swap the scanner and providers.
public struct UploadEnvironment {
    public let db: Database
    public let clock: EpochClock
    public let secretKey: [UInt8]
    public let spoolDirectory: String
    /// nil: scanning is off (the admin overview says so).
    public let scanner: ClamdScanner?
    /// The provider for a storage account.
    public let provider: (StorageAccount) throws -> StorageProvider
    /// How long deliveries are retried before a file is marked failed.
    public let deliveryWindow: Int64
    /// Which processes still run: a lease or reservation of a dead one is free at once.
    public let liveness: any ProcessLiveness
    /// Hears of each file accepted, for `/metrics`.
    public let counters: any OperationCounters

    public init(db: Database, clock: EpochClock, secretKey: [UInt8], spoolDirectory: String, scanner: ClamdScanner?, deliveryWindow: Int64 = 24 * 3600,
                liveness: any ProcessLiveness = LocalProcesses(), counters: any OperationCounters = .none,
                provider: @escaping (StorageAccount) throws -> StorageProvider) {
        self.db = db
        self.clock = clock
        self.secretKey = secretKey
        self.spoolDirectory = spoolDirectory
        self.scanner = scanner
        self.deliveryWindow = deliveryWindow
        self.liveness = liveness
        self.counters = counters
        self.provider = provider
    }

    /// The spool's folders and files, under `spoolDirectory`.
    public var spool: Spool { Spool(directory: spoolDirectory) }
}
