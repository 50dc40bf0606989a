import Intake
import Web

/// A month named in a query (`month=2026-12`): its first second and the first of the next, UTC.
struct MonthQuery {
    let text: String
    let start: Int64
    let end: Int64

    /// nil for no month (or an empty one); a 400 for anything that is not `YYYY-MM`.
    static func parse(_ raw: String?) throws -> MonthQuery? {
        guard let raw, !raw.isEmpty else { return nil }
        let parts = raw.split(separator: "-")
        guard parts.count == 2, parts[0].count == 4, parts[1].count == 2, parts.allSatisfy({ $0.utf8.allSatisfy { (48...57).contains($0) } }),
              let year = Int(parts[0]), let month = Int(parts[1]), (1970...9999).contains(year), (1...12).contains(month) else {
            throw HTTPError.badRequest("A month is written like 2026-12.", code: "invalid_month")
        }
        let next = month == 12 ? (year + 1, 1) : (year, month + 1)
        return MonthQuery(text: raw, start: daysFromCivil(year, month, 1) * 86400, end: daysFromCivil(next.0, next.1, 1) * 86400)
    }

    static func daysFromCivil(_ y: Int, _ m: Int, _ d: Int) -> Int64 { CivilDate(year: y, month: m, day: d).days }
}
