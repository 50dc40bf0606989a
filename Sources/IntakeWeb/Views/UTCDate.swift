/// Dates for pages, in UTC, without a formatter object (they are not cheap, nor thread-safe
/// everywhere): `2026-11-21` and `2026-11-21 05:28 UTC`.
enum UTCDate {
    static func day(_ epoch: Int64) -> String {
        let (y, m, d) = civil(epoch)
        return "\(y)-\(two(m))-\(two(d))"
    }

    static func minute(_ epoch: Int64) -> String {
        let seconds = ((epoch % 86400) + 86400) % 86400
        return day(epoch) + " \(two(Int(seconds / 3600))):\(two(Int(seconds % 3600 / 60))) UTC"
    }

    /// Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
    static func civil(_ epoch: Int64) -> (Int, Int, Int) {
        let days = Int(epoch >= 0 ? epoch / 86400 : (epoch - 86399) / 86400) + 719_468
        let era = (days >= 0 ? days : days - 146_096) / 146_097
        let doe = days - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    private static func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
}
