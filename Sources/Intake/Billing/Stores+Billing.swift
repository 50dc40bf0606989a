/// The billing report's stores, beside the others of `Stores`.
extension Stores {
    /// Daily usage snapshots and GB-days.
    public var usageSnapshots: UsageSnapshots { UsageSnapshots(db: db, clock: clock) }
    /// The operator's monthly billing report, in the site's currency when a month earned nothing.
    public var billingReport: BillingReport { BillingReport(db: db, clock: clock, currency: currency) }
}
