import Foundation
import Intake
import IntakeWeb
import Logging
import Synchronization
import Templates

/// The storage-migration thread of a worker process: every second it copies the files of running
/// migrations that are due (`StorageMigrationCopier`), one at a time until none is, and now and
/// then removes copies a dead worker left in the spool. Several workers, and several hosts, share
/// the work by each file's lease; a worker killed mid-copy leaves its file to the next taker.
/// Beside `DeliveryRunner`, so a long copy never holds up a client's delivery.
enum MigrationRunner {
    static func start(configuration: Configuration, templates: TemplateLibrary, logger: Logger, secretKey: [UInt8], metrics: SiteMetrics) {
        let passes = Atomic<Int>(0)
        WorkerThread.start("intake-migrations", what: "migration runner", configuration: configuration, templates: templates, logger: logger,
                           secretKey: secretKey, metrics: metrics) { services in
            let copier = StorageMigrationCopier(env: services.uploadEnvironment())
            if passes.add(1, ordering: .relaxed).oldValue % 600 == 0 { copier.removeStaleSpools() }
            // Until nothing is due: a migration of many small files does not wait a second per file.
            while try copier.runDue(limit: 1) > 0 {}
        }
    }
}
