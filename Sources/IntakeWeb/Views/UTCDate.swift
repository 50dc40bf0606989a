import Intake
import Templates

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

    /// The instant for a `<time datetime>` attribute (`2026-11-21T05:28:09Z`); pages show UTC text
    /// and `public/js/time.js` rewrites every `<time datetime>` into the viewer's time zone.
    static func iso(_ epoch: Int64) -> String {
        let seconds = ((epoch % 86400) + 86400) % 86400
        return day(epoch) + "T\(two(Int(seconds / 3600))):\(two(Int(seconds % 3600 / 60))):\(two(Int(seconds % 60)))Z"
    }

    /// A moment for a template: `{{x.text}}` (UTC) inside `<time datetime="{{x.iso}}">`, which
    /// site.js shows in the viewer's zone.
    static func moment(_ epoch: Int64) -> TemplateValue {
        ["iso": .string(iso(epoch)), "text": .string(minute(epoch))]
    }

    static func civil(_ epoch: Int64) -> (Int, Int, Int) {
        let date = CivilDate(epoch: epoch)
        return (date.year, date.month, date.day)
    }

    private static func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
}
