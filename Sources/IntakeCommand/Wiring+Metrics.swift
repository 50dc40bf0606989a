import Foundation
import Intake
import IntakeWeb
import Logging
import Metrics

extension Wiring {
    /// Where `intake serve` keeps the counters its processes share.
    static func metricsPath(_ configuration: Configuration) -> String { configuration.home + "/" + SiteMetrics.fileName }

    /// The supervisor's counters: the shared file made anew (every counter at zero, as any
    /// process's counters start) with a slot for each worker and the last for the jobs runner,
    /// before any worker starts.
    static func supervisorMetrics(_ configuration: Configuration) throws -> SiteMetrics {
        let layout = Application.metricsLayout(debug: configuration.debugRoutes)
        let shared = try SharedCounters.create(path: metricsPath(configuration), slots: configuration.workers + 1,
                                               countersPerSlot: layout.count, fingerprint: layout.fingerprint)
        return SiteMetrics(layout: layout, shared: shared, slot: configuration.workers)
    }

    /// A worker's counters: its slot (`INTAKE_WORKER_SLOT`, given by the supervisor) of the
    /// supervisor's file. A worker that no supervisor started, or that cannot map the file, counts
    /// for itself alone, and says so.
    static func workerMetrics(_ configuration: Configuration, environment: [String: String], logger: Logger) -> SiteMetrics {
        let layout = Application.metricsLayout(debug: configuration.debugRoutes)
        guard let text = environment["INTAKE_WORKER_SLOT"], let slot = Int(text) else { return .unshared(layout: layout) }
        do {
            let shared = try SharedCounters.attach(path: metricsPath(configuration), countersPerSlot: layout.count, fingerprint: layout.fingerprint)
            guard slot >= 0, slot < shared.slotCount - 1 else {
                throw SharedCountersError.layout(metricsPath(configuration), "has no slot \(slot) for a worker")
            }
            return SiteMetrics(layout: layout, shared: shared, slot: slot)
        } catch {
            logger.error("metrics: counting this worker's requests alone", metadata: ["error": "\(error)"])
            return .unshared(layout: layout)
        }
    }
}
