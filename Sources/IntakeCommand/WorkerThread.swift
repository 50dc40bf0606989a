import Foundation
import Intake
import IntakeWeb
import Logging
import Templates

/// A background thread of a worker process: `pass` runs about every second with the worker's
/// services (its own database connection), which are built again after a pass that failed (the
/// failure is logged as `<what> failed`). The delivery and migration threads are two.
enum WorkerThread {
    static func start(_ name: String, what: String, configuration: Configuration, templates: TemplateLibrary, logger: Logger, secretKey: [UInt8],
                      metrics: SiteMetrics, pass: @escaping @Sendable (WorkerServices) throws -> Void) {
        let thread = Thread {
            var services: WorkerServices?
            while true {
                do {
                    if services == nil {
                        services = try Wiring.services(configuration, templates: templates, logger: logger, secretKey: secretKey, metrics: metrics)
                    }
                    try pass(services!)
                } catch {
                    logger.error("\(what) failed", metadata: ["error": "\(error)"])
                    services = nil
                }
                Thread.sleep(forTimeInterval: 1)
            }
        }
        thread.name = name
        thread.start()
    }
}
