/// A calendar month in UTC, the unit the billing report and the statement count in: revenue by
/// the month of its ledger row, failed renewals by the month their period starts, GB-days by
/// the days of the month.
public struct BillingMonth: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let year: Int
    /// 1…12.
    public let month: Int

    public init(year: Int, month: Int) {
        precondition((1...12).contains(month), "a month is 1…12")
        self.year = year
        self.month = month
    }

    /// The month an epoch second falls in.
    public init(containing epoch: Int64) {
        let date = CivilDate(epoch: epoch)
        self.init(year: date.year, month: date.month)
    }

    /// The month a day (days since 1970-01-01) falls in.
    public init(containingDay day: Int64) {
        let date = CivilDate(days: day)
        self.init(year: date.year, month: date.month)
    }

    /// Its first day, in days since 1970-01-01.
    public var firstDay: Int64 { CivilDate(year: year, month: month, day: 1).days }
    /// The first day of the next month (exclusive end, in days).
    public var endDay: Int64 { next.firstDay }
    /// Its first second.
    public var start: Int64 { firstDay * 86400 }
    /// The first second of the next month (exclusive end).
    public var end: Int64 { next.start }

    public var next: BillingMonth { month == 12 ? BillingMonth(year: year + 1, month: 1) : BillingMonth(year: year, month: month + 1) }
    public var previous: BillingMonth { month == 1 ? BillingMonth(year: year - 1, month: 12) : BillingMonth(year: year, month: month - 1) }

    /// `count` months ending with `last`, most recent first.
    public static func last(_ count: Int, endingWith last: BillingMonth) -> [BillingMonth] {
        var months: [BillingMonth] = []
        var month = last
        for _ in 0..<max(0, count) {
            months.append(month)
            month = month.previous
        }
        return months
    }

    /// `2026-12`, as a `<input type="month">` writes it.
    public var text: String { "\(year)-\(month < 10 ? "0" : "")\(month)" }
    public var description: String { text }

    public static func < (a: BillingMonth, b: BillingMonth) -> Bool { (a.year, a.month) < (b.year, b.month) }
}
