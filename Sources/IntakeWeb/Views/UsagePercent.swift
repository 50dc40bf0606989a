import Intake

/// How much of a quota is used, as pages say it: "45%", "<1%" for a little (never "0%" beside
/// bytes that are stored), "over" past it.
enum UsagePercent {
    static func text(_ quota: UserQuota) -> String {
        if quota.usage.isInfinite { return "over" }
        let percent = Int((quota.usage * 100).rounded())
        return percent == 0 && quota.usedBytes > 0 ? "<1%" : "\(percent)%"
    }
}
