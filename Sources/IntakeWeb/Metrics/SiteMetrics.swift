import Intake
import Integrations
import Metrics
import Web

/// Intake's counters for `/metrics`, in the counters every process of `intake serve` shares: this
/// process adds to its own slot, and `/metrics`, whichever worker answers it, sums every slot.
/// The domain tells it what it did through `OperationCounters`; the application tells it of each
/// request answered.
public final class SiteMetrics: OperationCounters {
    /// Where each counter lives in a slot.
    public let layout: MetricsLayout
    /// Every process's counters.
    let shared: SharedCounters
    /// This process's slot.
    private let slot: CounterSlot
    /// The slot of the supervisor (the last); the others are workers'.
    var supervisorSlot: Int { shared.slotCount - 1 }
    private let jobIndex: [String: Int]

    /// Adds to slot `slot` of `shared`, which must be made for `layout`.
    public init(layout: MetricsLayout, shared: SharedCounters, slot: Int) {
        precondition(shared.countersPerSlot == layout.count, "the shared counters were made for another layout")
        self.layout = layout
        self.shared = shared
        self.slot = shared.slot(slot)
        jobIndex = Dictionary(uniqueKeysWithValues: Jobs.names.enumerated().map { ($1, $0) })
    }

    /// Counters of this process alone, for a worker started without a supervisor (and for tests).
    public static func unshared(layout: MetricsLayout) -> SiteMetrics {
        SiteMetrics(layout: layout, shared: .inMemory(slots: 1, countersPerSlot: layout.count), slot: 0)
    }

    /// The name of the shared counters' file in `INTAKE_HOME`.
    public static let fileName = "metrics.counters"

    /// Counts a request on `line` (from `MetricsLayout`) answered with `status` after `seconds`.
    func countRequest(line: Int, status: Int, seconds: Double) {
        slot.add(1, to: layout.requests + line * layout.statusCount + MetricsLayout.statusColumn(status))
        let route = layout.lines[line].route
        slot.add(1, to: layout.durationBuckets + route * (MetricsLayout.durationBounds.count + 1) + MetricsLayout.durationBucket(seconds))
        slot.add(UInt64(max(seconds, 0) * 1e9), to: layout.durationSums + route)
    }

    public func fileAccepted(_ transfer: UploadTransfer, bytes: Int64) {
        let index = UploadTransfer.allCases.firstIndex(of: transfer)!
        slot.add(1, to: layout.uploads + index)
        slot.add(UInt64(max(bytes, 0)), to: layout.uploadBytes + index)
    }

    public func tokenRefreshed(_ provider: OAuthProvider.Kind, _ result: TokenRefreshResult) {
        let row = OAuthProvider.Kind.allCases.firstIndex(of: provider)!, column = TokenRefreshResult.allCases.firstIndex(of: result)!
        slot.add(1, to: layout.refreshes + row * TokenRefreshResult.allCases.count + column)
    }

    public func jobRan(_ job: String, failed: Bool) {
        guard let index = jobIndex[job] else { return }
        slot.add(1, to: layout.jobs + index * 2 + (failed ? 1 : 0))
    }
}
