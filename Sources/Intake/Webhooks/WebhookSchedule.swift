/// When a webhook delivery that failed is tried again: about 1 min, 5 min, 30 min, 2 h, 5 h, then
/// every 10 h, for one day after the event; an endpoint whose every attempt has failed for three
/// days is switched off.
public enum WebhookSchedule {
    /// How long after its event a delivery is still tried.
    public static let windowSeconds: Int64 = 86_400
    /// How long an endpoint may fail without a success before it is switched off.
    public static let disableAfterSeconds: Int64 = 3 * 86_400
    /// How long delivered and failed deliveries, with their attempts, stay on the endpoint's page.
    public static let retentionSeconds: Int64 = 30 * 86_400
    /// The pauses after the first, second, … failed attempt; the last repeats.
    public static let delays: [Int64] = [60, 300, 1_800, 7_200, 18_000, 36_000]

    /// The pause after failed attempt `attempt` (1 for the first).
    public static func delay(afterAttempt attempt: Int) -> Int64 {
        delays[min(max(attempt, 1), delays.count) - 1]
    }

    /// When to try again after failed attempt `attempt` at `now`, for a delivery tried until
    /// `until` (its event's time plus `windowSeconds`); nil when that is later (failed for good).
    public static func nextAttempt(after attempt: Int, now: Int64, until: Int64) -> Int64? {
        let next = now + delay(afterAttempt: attempt)
        return next <= until ? next : nil
    }
}
