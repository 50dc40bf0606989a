import Intake

/// The admin user page's usage-over-time chart: an inline SVG drawn on the server (no script, no
/// chart library), with the bytes stored as a line over a filled area, the quota as a dashed
/// line, dates along the bottom, sizes up the side, and a `<title>` and `<desc>` that a screen
/// reader reads instead of the picture. A pure function of its input; every text in it is
/// escaped here, since the template writes it as it is.
enum UsageChart {
    /// Days the admin user page shows.
    static let days = 90
    static let width = 640.0
    static let height = 220.0
    /// Room for the size labels (left), the legend (top) and the dates (bottom).
    static let left = 64.0, right = 12.0, top = 26.0, bottom = 26.0
    static var plotWidth: Double { width - left - right }
    static var plotHeight: Double { height - top - bottom }

    /// The chart of `points` (oldest first) over the `days` days that end with `lastDay` (days
    /// since 1970-01-01), or a sentence when there is nothing to draw. Points outside the window
    /// are left out; days without a point are bridged by the line.
    static func html(_ points: [UsageSnapshot], days: Int, lastDay: Int64, title: String) -> String {
        let firstDay = lastDay - Int64(max(days, 1)) + 1
        let shown = points.filter { $0.day >= firstDay && $0.day <= lastDay }.sorted { $0.day < $1.day }
        guard let latest = shown.last else { return ##"<p class="empty">No usage recorded yet.</p>"## }
        let peak = shown.map(\.bytes).max() ?? 0
        let axisMax = axisMaximum(max(peak, shown.map(\.quotaBytes).max() ?? 0))

        func x(_ day: Int64) -> Double { left + Double(day - firstDay) / Double(max(days - 1, 1)) * plotWidth }
        func y(_ bytes: Int64) -> Double { top + plotHeight * (1 - Double(max(0, min(bytes, axisMax))) / Double(axisMax)) }
        func pairs(_ value: (UsageSnapshot) -> Int64) -> String {
            shown.map { "\(number(x($0.day))),\(number(y(value($0))))" }.joined(separator: " ")
        }
        let baseline = number(top + plotHeight)
        let stored = pairs(\.bytes)
        let area = "\(number(x(shown.first!.day))),\(baseline) \(stored) \(number(x(latest.day))),\(baseline)"

        var svg = """
            <svg class="usage-chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \(number(width)) \(number(height))" \
            width="100%" preserveAspectRatio="xMidYMid meet" role="img" aria-labelledby="usage-chart-title usage-chart-desc">
            <title id="usage-chart-title">\(HTMLEscaping.escape(title))</title>
            <desc id="usage-chart-desc">\(HTMLEscaping.escape(summary(shown, firstDay: firstDay, lastDay: lastDay, peak: peak)))</desc>

            """
        // Gridlines and size labels at 0, half and the top of the axis.
        svg += ##"<g class="usage-chart-axis" font-size="11" fill="#57606a" stroke="none">"## + "\n" + gridlines(axisMax, figures: .bytes)
        let dateY = number(height - 8)
        for (day, anchor) in [(firstDay, "start"), (firstDay + (lastDay - firstDay) / 2, "middle"), (lastDay, "end")] {
            svg += ##"<text x="\##(number(x(day)))" y="\##(dateY)" text-anchor="\##(anchor)">\##(HTMLEscaping.escape(UTCDate.day(day * 86400)))</text>"## + "\n"
        }
        svg += "</g>\n"
        // The legend, above the plot.
        svg += """
            <g class="usage-chart-legend" font-size="11" fill="#24292f">
            <line x1="\(number(left))" y1="12" x2="\(number(left + 18))" y2="12" stroke="#2f81f7" stroke-width="2"/>
            <text x="\(number(left + 22))" y="16">Stored</text>
            <line x1="\(number(left + 80))" y1="12" x2="\(number(left + 98))" y2="12" stroke="#cf222e" stroke-width="1.5" stroke-dasharray="6 4"/>
            <text x="\(number(left + 102))" y="16">Quota</text>
            </g>

            """
        svg += """
            <polygon class="usage-chart-area" points="\(area)" fill="#2f81f7" fill-opacity="0.18" stroke="none"/>
            <polyline class="usage-chart-stored" points="\(stored)" fill="none" stroke="#2f81f7" stroke-width="2" stroke-linejoin="round"/>
            <polyline class="usage-chart-quota" points="\(pairs(\.quotaBytes))" fill="none" stroke="#cf222e" stroke-width="1.5" stroke-dasharray="6 4"/>
            <circle class="usage-chart-latest" cx="\(number(x(latest.day)))" cy="\(number(y(latest.bytes)))" r="3" fill="#2f81f7"/>
            </svg>
            """
        return svg
    }

    /// What the chart shows, in words, for its `<desc>`.
    static func summary(_ shown: [UsageSnapshot], firstDay: Int64, lastDay: Int64, peak: Int64) -> String {
        let latest = shown.last!
        return "From \(UTCDate.day(firstDay * 86400)) to \(UTCDate.day(lastDay * 86400)): "
            + "\(ByteSize(bytes: latest.bytes)) stored of a \(ByteSize(bytes: latest.quotaBytes)) quota on \(UTCDate.day(latest.day * 86400)); "
            + "at most \(ByteSize(bytes: peak)) in the period."
    }

    /// The smallest `steps` × 10ⁿ (1, 2 or 5) at or above `bytes`, and at least `minimum` (1 MB
    /// for sizes), so the axis reads in round figures (its half, too: 0.5, 1 or 2.5 × 10ⁿ; counts
    /// take 2, 4 or 10 × 10ⁿ, so that their half is a whole number).
    static func axisMaximum(_ bytes: Int64, minimum: Int64 = 1_000_000, steps: [Int64] = [1, 2, 5]) -> Int64 {
        if minimum > 1, bytes <= minimum { return minimum }
        var power: Int64 = 1
        while true {
            for step in steps {
                let (candidate, overflow) = power.multipliedReportingOverflow(by: step)
                if overflow { return bytes }
                if candidate >= bytes { return candidate }
            }
            let (next, overflow) = power.multipliedReportingOverflow(by: 10)
            if overflow { return bytes }
            power = next
        }
    }

    /// A coordinate with at most one decimal (`12`, `12.5`).
    static func number(_ value: Double) -> String {
        let tenths = (value * 10).rounded()
        return tenths.truncatingRemainder(dividingBy: 10) == 0 ? String(Int64(tenths / 10)) : String(tenths / 10)
    }
}
