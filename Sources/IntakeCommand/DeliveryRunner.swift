import Database
import Foundation
import Intake
import IntakeWeb
import Logging
import Templates

/// The delivery thread of a worker process: every second it delivers the files that are due
/// (new ones whose first attempt failed for a while, retries, and those a dead worker left half
/// way, resumed from their saved provider session) and completes resumable uploads whose last
/// chunk arrived but whose completion never finished, and drops the quota reservations of
/// requests whose worker died. Several workers share the work by leases. It lives beside the
/// jobs runner (`JobRunner`) and the migration thread (`MigrationRunner`).
enum DeliveryRunner {
    static func start(configuration: Configuration, templates: TemplateLibrary, logger: Logger, secretKey: [UInt8], metrics: SiteMetrics) {
        WorkerThread.start("intake-deliveries", what: "delivery runner", configuration: configuration, templates: templates, logger: logger,
                           secretKey: secretKey, metrics: metrics) { services in
            let env = services.uploadEnvironment()
            try QuotaReservations(db: env.db, clock: env.clock).removeAbandoned()
            let delivered = try Deliveries(env: env).runDue()
            let completed = try TusUploads(env: env, lifetime: configuration.tusLifetimeSeconds).completeStalled()
            if delivered + completed > 0 {
                logger.info("deliveries", metadata: ["attempted": "\(delivered)", "resumable_completed": "\(completed)"])
            }
        }
    }
}
