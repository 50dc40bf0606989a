import Intake

/// Bar charts drawn the way the usage chart is (same size, margins, axis, colours, rounding and
/// escaping): columns over the days of a window (uploads, bytes, failures per day) and
/// horizontal bars of named totals (the largest clients, the file types). Each is an inline SVG
/// with `role="img"`, an `aria-label` (its title), a `<title>` and a `<desc>` that says what it
/// shows in words; the page puts a table of the same figures beside it.
extension UsageChart {
    /// How a chart writes its figures: counts as numbers, sizes as `ByteSize`.
    enum Figures {
        case count, bytes

        func text(_ value: Int64) -> String {
            switch self {
            case .count: String(value)
            case .bytes: ByteSize(bytes: value).description
            }
        }

        /// The top of an axis that reaches `peak`: round sizes from 1 KB, even counts from 2.
        func axisMaximum(_ peak: Int64) -> Int64 {
            self == .bytes ? UsageChart.axisMaximum(peak, minimum: 1_000) : UsageChart.axisMaximum(peak, minimum: 2, steps: [2, 4, 10])
        }
    }

    /// The opening of a chart's SVG: its accessible name and description under ids from `id`.
    static func svgOpen(id: String, cssClass: String, height: Double, title: String, description: String) -> String {
        """
        <svg class="chart \(cssClass)" id="\(id)" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \(number(width)) \(number(height))" \
        width="100%" preserveAspectRatio="xMidYMid meet" role="img" aria-label="\(HTMLEscaping.escape(title))" aria-describedby="\(id)-desc">
        <title id="\(id)-title">\(HTMLEscaping.escape(title))</title>
        <desc id="\(id)-desc">\(HTMLEscaping.escape(description))</desc>

        """
    }

    /// One column per day of `values` (oldest first, every day of the window), with the values
    /// up the side at 0, half and the top and the first, middle and last dates along the bottom.
    static func dayColumns(_ values: [(day: Int64, value: Int64)], id: String, title: String, figures: Figures, color: String = "#2f81f7") -> String {
        guard let firstDay = values.first?.day, let lastDay = values.last?.day else { return "" }
        let peak = values.map(\.value).max() ?? 0
        let total = values.reduce(Int64(0)) { $0 + $1.value }
        let axisMax = figures.axisMaximum(peak)
        let slot = plotWidth / Double(values.count)
        let barWidth = max(slot - 1, 1)
        func y(_ value: Int64) -> Double { top + plotHeight * (1 - Double(max(0, min(value, axisMax))) / Double(axisMax)) }
        let busiest = values.max { $0.value < $1.value }
        let description = "From \(UTCDate.day(firstDay * 86400)) to \(UTCDate.day(lastDay * 86400)): \(figures.text(total)) in all"
            + (peak > 0 ? ", at most \(figures.text(peak)) on one day (\(UTCDate.day(busiest!.day * 86400)))." : ", none on any day.")
        var svg = svgOpen(id: id, cssClass: "chart-days", height: height, title: title, description: description)
        let dateY = number(height - 8)
        svg += ##"<g class="chart-axis" font-size="11" fill="#57606a" stroke="none">"## + "\n" + gridlines(axisMax, figures: figures)
        for (i, anchor) in [(0, "start"), (values.count / 2, "middle"), (values.count - 1, "end")] {
            let x = anchor == "start" ? left : anchor == "end" ? width - right : left + (Double(i) + 0.5) * slot
            svg += ##"<text x="\##(number(x))" y="\##(dateY)" text-anchor="\##(anchor)">\##(UTCDate.day(values[i].day * 86400))</text>"## + "\n"
        }
        svg += "</g>\n"
        // The columns as one path (90 rectangles' worth of markup would be most of the page); the
        // table beside the chart gives each day's figure.
        let baseline = number(top + plotHeight)
        var path = ""
        for (i, point) in values.enumerated() where point.value > 0 {
            path += "M\(number(left + Double(i) * slot)) \(baseline)V\(number(y(point.value)))h\(number(barWidth))V\(baseline)Z"
        }
        if !path.isEmpty { svg += ##"<path class="chart-bars" fill="\##(color)" d="\##(path)"/>"## + "\n" }
        svg += "</svg>"
        return svg
    }

    /// One horizontal bar per item, largest first as given, each named on its left and with its
    /// figure on its right; the chart is as tall as its bars.
    static func namedBars(_ items: [(label: String, value: Int64)], id: String, title: String, figures: Figures, color: String = "#2f81f7") -> String {
        guard !items.isEmpty else { return "" }
        let labelWidth = 170.0, valueWidth = 80.0, barHeight = 18.0, gap = 8.0, head = 8.0
        let chartHeight = head + Double(items.count) * (barHeight + gap) + 20
        let axisMax = figures.axisMaximum(items.map(\.value).max() ?? 0)
        let barRoom = width - labelWidth - valueWidth - right
        let description = items.map { "\($0.label.isEmpty ? "(no name)" : $0.label): \(figures.text($0.value))" }.joined(separator: "; ") + "."
        var svg = svgOpen(id: id, cssClass: "chart-named", height: chartHeight, title: title, description: description)
        svg += ##"<g class="chart-axis" font-size="11" fill="#57606a">"## + "\n"
        let axisY = number(chartHeight - 6)
        svg += ##"<text x="\##(number(labelWidth))" y="\##(axisY)" text-anchor="start">0</text>"## + "\n"
        svg += ##"<text x="\##(number(labelWidth + barRoom))" y="\##(axisY)" text-anchor="end">\##(HTMLEscaping.escape(figures.text(axisMax)))</text>"## + "\n"
        svg += "</g>\n"
        svg += ##"<g class="chart-bars" font-size="12" fill="#24292f">"## + "\n"
        for (i, item) in items.enumerated() {
            let y = head + Double(i) * (barHeight + gap)
            let length = max(barRoom * Double(item.value) / Double(axisMax), item.value > 0 ? 1 : 0)
            let name = item.label.isEmpty ? "(no name)" : item.label
            let shown = name.count > 26 ? String(name.prefix(25)) + "…" : name
            let text = number(y + barHeight - 5)
            svg += ##"<text x="\##(number(labelWidth - 8))" y="\##(text)" text-anchor="end">\##(HTMLEscaping.escape(shown))</text>"## + "\n"
            svg += ##"<rect x="\##(number(labelWidth))" y="\##(number(y))" width="\##(number(length))" height="\##(number(barHeight))" fill="\##(color)"><title>\##(HTMLEscaping.escape(name)): \##(HTMLEscaping.escape(figures.text(item.value)))</title></rect>"## + "\n"
            svg += ##"<text x="\##(number(labelWidth + length + 6))" y="\##(text)">\##(HTMLEscaping.escape(figures.text(item.value)))</text>"## + "\n"
        }
        svg += "</g>\n</svg>"
        return svg
    }

    /// Gridlines across the plot and figures up its side at 0, half and the top of the axis.
    static func gridlines(_ axisMax: Int64, figures: Figures) -> String {
        var svg = ""
        for tick in [0, axisMax / 2, axisMax] {
            let ty = number(top + plotHeight * (1 - Double(max(0, min(tick, axisMax))) / Double(axisMax)))
            svg += ##"<line x1="\##(number(left))" y1="\##(ty)" x2="\##(number(width - right))" y2="\##(ty)" stroke="#d0d7de" stroke-width="1"/>"## + "\n"
            svg += ##"<text x="\##(number(left - 6))" y="\##(ty)" dy="4" text-anchor="end">\##(HTMLEscaping.escape(figures.text(tick)))</text>"## + "\n"
        }
        return svg
    }
}
