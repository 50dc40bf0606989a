import Foundation
import Testing
@testable import Intake
@testable import IntakeWeb
import Web

/// The analytics page's pieces that need no database: the selector as the query carries it, and
/// the charts (escaped, named, scaled).
@Suite("Analytics page")
struct AnalyticsPageTests {
    static func query(_ pairs: [(String, String)]) -> FormFields { FormFields(pairs.map { (name: $0.0, value: $0.1) }) }

    @Test("the selector and the API's ids read back as the scope they name", arguments: [
        ([], StorageAnalytics.Scope.owner), ([("scope", "all")], .owner), ([("scope", "")], .owner),
        ([("scope", "account-3")], .account(3)), ([("scope", "portal-12")], .portal(12)),
        ([("account_id", "7")], .account(7)), ([("portal_id", "9")], .portal(9)),
        ([("portal_id", "9"), ("account_id", "")], .portal(9)),
        // The API's ids win over the page's selector.
        ([("scope", "portal-1"), ("account_id", "4")], .account(4)),
    ] as [([(String, String)], StorageAnalytics.Scope)])
    func scopes(_ pairs: [(String, String)], _ expected: StorageAnalytics.Scope) throws {
        #expect(try AnalyticsScopeForm.parse(Self.query(pairs)) == expected)
        #expect(try AnalyticsScopeForm.parse(Self.query([("scope", AnalyticsScopeForm.value(expected))])) == expected)
    }

    @Test("both ids, an id that is not digits, or a selector value it never offers is a 400", arguments: [
        [("account_id", "1"), ("portal_id", "2")], [("portal_id", "abc")], [("account_id", "-1")], [("portal_id", "0")],
        [("portal_id", "1e3")], [("portal_id", " 1")], [("portal_id", "99999999999999999999")], [("scope", "portal-x")],
        [("scope", "everything")], [("scope", "account-")],
    ] as [[(String, String)]])
    func refused(_ pairs: [(String, String)]) {
        #expect(throws: HTTPError.self) { try AnalyticsScopeForm.parse(Self.query(pairs)) }
    }

    let lastDay: Int64 = 20_000

    @Test("a day chart has a column for each day with something, its name and description escaped, the dates and figures on its axes")
    func dayColumns() {
        let days = (0..<90).map { (day: lastDay - 89 + Int64($0), value: Int64($0 % 30 == 0 ? 3 : 0)) }
        let svg = UsageChart.dayColumns(days, id: "c", title: #"Files for <b>"Ada" & co</b>"#, figures: .count)
        #expect(svg.hasPrefix("<svg ") && svg.hasSuffix("</svg>") && !svg.contains("<b>"))
        #expect(svg.contains(#"role="img" aria-label="Files for &lt;b&gt;&quot;Ada&quot; &amp; co&lt;/b&gt;" aria-describedby="c-desc""#))
        #expect(svg.contains(#"<title id="c-title">Files for &lt;b&gt;"#) && svg.contains(#"<desc id="c-desc">From 2024-07-07 to 2024-10-04: 9 in all, at most 3 on one day (2024-07-07).</desc>"#))
        #expect(svg.components(separatedBy: "Z").count - 1 == 3 && svg.contains(##"<path class="chart-bars" fill="#2f81f7" d="M64 194V"##))
        // Counts: the axis tops at 4 (2, 4 or 10 × 10ⁿ), so its half is 2, a whole number.
        #expect(svg.contains(">4</text>") && svg.contains(">2</text>") && svg.contains(">0</text>"))
        #expect(svg.contains(">2024-07-07</text>") && svg.contains(">2024-10-04</text>"))
        let none = UsageChart.dayColumns(days.map { ($0.day, 0) }, id: "n", title: "t", figures: .bytes)
        #expect(none.contains("none on any day.") && !none.contains("<path"))
    }

    @Test("named bars: one per item, largest the longest, names escaped and cut, anonymous clients named")
    func namedBars() {
        let items: [(label: String, value: Int64)] = [("<script>x</script>", 4_000), ("", 2_000), (String(repeating: "a", count: 40), 1)]
        let svg = UsageChart.namedBars(items, id: "b", title: "Largest", figures: .bytes)
        #expect(!svg.contains("<script>") && svg.contains("&lt;script&gt;x&lt;/script&gt;"))
        #expect(svg.contains("(no name)") && svg.contains(String(repeating: "a", count: 25) + "…"))
        let widths = svg.matches(of: /<rect x="[0-9.]+" y="[0-9.]+" width="([0-9.]+)"/).map { Double($0.output.1)! }
        #expect(widths.count == 3 && widths[0] > widths[1] && widths[1] > widths[2] && widths[2] >= 1)
        #expect(UsageChart.namedBars([], id: "e", title: "t", figures: .count).isEmpty)
    }

    @Test("types group their extensions by the families FileTypes knows, largest first, Other for the rest")
    func families() {
        let t = StorageAnalytics.families([.init(name: "pdf", files: 2, bytes: 10), .init(name: "docx", files: 1, bytes: 30),
                                           .init(name: "png", files: 5, bytes: 5), .init(name: "", files: 1, bytes: 100),
                                           .init(name: "xyz", files: 1, bytes: 1)])
        #expect(t.map(\.label) == ["Other", "Documents", "Images"])
        #expect(t.map(\.files) == [2, 3, 5] && t[1].extensions.map(\.name) == ["docx", "pdf"])
    }
}
