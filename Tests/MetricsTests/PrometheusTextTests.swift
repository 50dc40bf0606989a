import Testing
import TestSupport
@testable import Metrics

@Suite("Prometheus' text format")
struct PrometheusTextTests {
    @Test("label values escape backslash, quote and line feed; help text backslash and line feed; anything else as it is",
          arguments: [
              ("plain", "plain"), (#"a\b"#, #"a\\b"#), (#"say "hi""#, #"say \"hi\""#), ("two\nlines", #"two\nlines"#),
              (#"\"#, #"\\"#), ("ünïcode ✓ {} = ,", "ünïcode ✓ {} = ,"), ("", ""), ("tab\there", "tab\there"),
          ])
    func labelEscaping(_ raw: String, _ escaped: String) throws {
        #expect(PrometheusText.escapeLabelValue(raw) == escaped)
        var out = PrometheusText()
        out.family("x_total", .counter, help: "A \\ help\nwith \"quotes\".")
        out.sample("x_total", [("path", raw)], 1)
        #expect(out.text.contains(#"x_total{path=""# + escaped + #""} 1"#))
        #expect(out.text.hasPrefix(#"# HELP x_total A \\ help\nwith "quotes"."# + "\n# TYPE x_total counter\n"))
        // Read back by a strict parser: the same value.
        let parsed = try ParsedExposition.parse(out.text)
        #expect(parsed.value("x_total", ["path": raw]) == 1)
        #expect(parsed.help["x_total"] == "A \\ help\nwith \"quotes\".")
    }

    @Test("values: whole numbers without a fraction, +Inf, -Inf, NaN, fractions as the shortest double",
          arguments: [(0.0, "0"), (10, "10"), (0.005, "0.005"), (2.5, "2.5"), (-3, "-3"), (1e20, "1e+20"), (.infinity, "+Inf"),
                      (-.infinity, "-Inf"), (.nan, "NaN"), (0.1 + 0.2, "0.30000000000000004")])
    func values(_ value: Double, _ text: String) {
        #expect(PrometheusText.format(value) == text)
    }

    @Test("a histogram is written cumulatively with le bounds, +Inf, _sum and _count, and the +Inf bucket is the count")
    func histogram() throws {
        var out = PrometheusText()
        out.family("request_seconds", .histogram, help: "Durations.")
        out.histogram("request_seconds", [("route", "/p/:slug")], upperBounds: [0.005, 0.01, 1, 10], bucketCounts: [3, 0, 2, 1, 4], sum: 42.25)
        #expect(out.text == """
            # HELP request_seconds Durations.
            # TYPE request_seconds histogram
            request_seconds_bucket{route="/p/:slug",le="0.005"} 3
            request_seconds_bucket{route="/p/:slug",le="0.01"} 3
            request_seconds_bucket{route="/p/:slug",le="1"} 5
            request_seconds_bucket{route="/p/:slug",le="10"} 6
            request_seconds_bucket{route="/p/:slug",le="+Inf"} 10
            request_seconds_sum{route="/p/:slug"} 42.25
            request_seconds_count{route="/p/:slug"} 10

            """)
        let parsed = try ParsedExposition.parse(out.text)
        #expect(parsed.value("request_seconds_count", ["route": "/p/:slug"]) == 10)
        #expect(parsed.samples("request_seconds_bucket").map(\.value) == [3, 3, 5, 6, 10])
    }

    @Test("names: metric names may hold colons, label names may not, neither may start with a digit; __ is reserved",
          arguments: [("a_b:c", true, false), ("_x", true, true), ("9x", false, false), ("x-y", false, false), ("", false, false),
                      ("__name__", true, false), ("le", true, true)])
    func names(_ name: String, _ metric: Bool, _ label: Bool) {
        #expect(PrometheusText.isMetricName(name) == metric)
        #expect(PrometheusText.isLabelName(name) == label)
    }

    @Test("the test parser refuses what the format forbids")
    func parserRefuses() {
        let cases = [
            "x_total 1\n",  // a sample before its TYPE
            "# TYPE x counter\nx 1\n",  // a counter not named _total
            "# TYPE x gauge\nx{a=\"1\"} 1\nx{a=\"1\"} 2\n",  // a repeated series
            "# TYPE x gauge\nx{a=\"\\t\"} 1\n",  // an unknown escape
            "# TYPE x gauge\nx 1",  // no final line feed
            "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n",  // not cumulative
            "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n",  // no +Inf
            "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 1\n",  // count is not +Inf
            "# TYPE x gauge\nx 1\n# TYPE y gauge\ny 1\n# HELP x again\n",  // a family split in two
        ]
        for text in cases {
            #expect(throws: ExpositionError.self, "\(text)") { try ParsedExposition.parse(text) }
        }
    }
}
