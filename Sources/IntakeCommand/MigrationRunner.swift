import Foundation
import Intake
import IntakeWeb
import Logging
import Templates

/// The storage-migration thread of a worker process: every second it copies the files of running
/// migrations that are due (`StorageMigrationCopier`), one at a time, and removes copies a dead
/// worker left in the spool. Several workers, and several hosts, share the work by each file's
/// lease; a worker killed mid-copy leaves its file to the next taker. Beside `DeliveryRunner`, so
/// a long copy never holds up a client's delivery.
enum MigrationRunner {
    static func start(configuration: Configuration, templates: TemplateLibrary, logger: Logger, secretKey: [UInt8], metrics: SiteMetrics) {
        let thread = Thread {
            var services: WorkerServices?
            var passes = 0
            while true {
                do {
                    if services == nil {
                        services = try Wiring.services(configuration, templates: templates, logger: logger, secretKey: secretKey, metrics: metrics)
                    }
                    let copier = StorageMigrationCopier(env: services!.uploadEnvironment())
                    if passes % 600 == 0 { copier.removeStaleSpools() }
                    passes += 1
                    // Until nothing is due: a migration of many small files does not wait a second per file.
                    while try copier.runDue(limit: 1) > 0 {}
                } catch {
                    logger.error("migration runner failed", metadata: ["error": "\(error)"])
                    services = nil
                }
                Thread.sleep(forTimeInterval: 1)
            }
        }
        thread.name = "intake-migrations"
        thread.start()
    }
}
