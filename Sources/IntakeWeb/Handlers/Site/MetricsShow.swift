import Intake
import Metrics
import Sodium
import Web

/// `GET /metrics`: the counters of every process of `intake serve` and the delivery figures, in
/// Prometheus' text format. For a scraper with `Authorization: Bearer` and the token of
/// `INTAKE_METRICS_TOKEN`, or an admin signed in. A wrong token, or none and no session, is a 401
/// with a `Bearer` challenge (a scraper's target page then says why); a signed-in user who is not
/// an admin gets the 403 of every admin page.
enum MetricsShow {
    static func handle(_ context: RequestContext) throws -> Response {
        try authorize(context)
        let text = context.services.metrics.exposition(files: try context.stores.siteTotals.statusTotals())
        return Response(status: .ok, headers: ["content-type": PrometheusText.contentType, "cache-control": "no-store"],
                        body: .bytes(Array(text.utf8)))
    }

    static func authorize(_ context: RequestContext) throws {
        if let authorization = context.request.headers["authorization"] {
            let parts = authorization.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, parts[0].lowercased() == "bearer", let expected = context.services.configuration.metricsToken,
                  matches(String(parts[1]).trimmingSpaces(), expected) else {
                throw HTTPError(.unauthorized, code: "invalid_token", "This metrics token is not valid.")
            }
            return
        }
        guard let user = context.user else {
            throw HTTPError(.unauthorized, code: "unauthorized", "Send the metrics token (Authorization: Bearer …), or sign in as an administrator.")
        }
        guard user.role == .admin else { throw HTTPError(.forbidden, code: "forbidden", "This page is for administrators only.") }
    }

    /// Compares the digests, in constant time: neither the token's characters nor its length
    /// show in how long a refusal takes.
    static func matches(_ sent: String, _ expected: String) -> Bool {
        Sodium.constantTimeEqual(Digest.sha256(Array(sent.utf8)), Digest.sha256(Array(expected.utf8)))
    }
}
