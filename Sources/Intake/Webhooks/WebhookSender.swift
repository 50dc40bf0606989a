import Curl
import Database
import Logging

/// Sends queued webhook deliveries: a JSON POST with `Intake-Event`, `Intake-Delivery` (the event
/// id) and `Intake-Signature` (see `WebhookSignature`), ten seconds at most, redirects not
/// followed. A 2xx answer delivers; anything else (another status, a refused destination, a
/// network error) is logged as an attempt and tried again on `WebhookSchedule` until the
/// delivery's day is over. Each delivery is claimed before it is sent (its next attempt moved
/// past the claim, only if it is still due), so several hosts' runners never send it twice at once.
///
/// Destinations are checked at every send: the host is resolved here, every address must be
/// public (unless `allowPrivate`), and the request is pinned to the checked address with
/// CURLOPT_RESOLVE, so a name that changes its answer between the check and the connection (DNS
/// rebinding) still reaches only the checked address.
public struct WebhookSender {
    let db: Database
    let clock: EpochClock
    let endpoints: WebhookEndpoints
    let http: any HTTPTransport
    let allowPrivate: Bool
    let resolve: (String) throws -> [NetworkAddress]

    /// How long a runner owns a delivery it is sending before another may try it.
    public static let claimSeconds: Int64 = 120
    /// The whole request's limit.
    public static let timeoutSeconds = 10
    /// How much of the receiver's answer is kept in the log.
    public static let excerptBytes = 512

    static let log = Logger(label: "intake.webhooks")

    public init(db: Database, clock: EpochClock, secretKey: [UInt8], http: any HTTPTransport, allowPrivate: Bool,
                resolve: @escaping (String) throws -> [NetworkAddress] = NetworkAddress.resolve) {
        self.db = db
        self.clock = clock
        self.endpoints = WebhookEndpoints(db: db, clock: clock, secretKey: secretKey)
        self.http = http
        self.allowPrivate = allowPrivate
        self.resolve = resolve
    }

    /// What one pass did.
    public struct Report: Sendable, Equatable {
        public var delivered = 0
        public var retrying = 0
        public var failed = 0
        public var endpointsDisabled = 0
        public init() {}
    }

    /// How one attempt ended.
    public enum Outcome: Equatable, Sendable {
        case delivered(status: Int)
        case retrying(String)
        case failed(String)
        /// Not due, already sent, or another runner has it.
        case notClaimed
    }

    /// Sends every due delivery of enabled endpoints (oldest first, at most `limit`).
    public func sendDue(limit: Int = 100) throws -> Report {
        let ids = try db.query("""
            SELECT d.id FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
            WHERE d.status = 'pending' AND d.next_attempt_at <= $1 AND e.enabled = 1 ORDER BY d.next_attempt_at, d.id LIMIT $2
            """, [clock.now(), limit]).map { try $0.get("id", as: Int64.self) }
        var report = Report()
        for id in ids {
            switch try send(deliveryID: id) {
            case .delivered: report.delivered += 1
            case .retrying: report.retrying += 1
            case .failed: report.failed += 1
            case .notClaimed: break
            }
        }
        return report
    }

    /// Claims delivery `deliveryID` if it is due and sends it once.
    public func send(deliveryID: Int64) throws -> Outcome {
        let now = clock.now()
        guard try db.execute("""
            UPDATE webhook_deliveries SET next_attempt_at = $1 WHERE id = $2 AND status = 'pending' AND next_attempt_at <= $3
            """, [now + Self.claimSeconds, deliveryID, now]) == 1,
              let row = try db.queryOne("""
                SELECT d.id, d.endpoint_id, d.event_id, d.type, d.payload, d.attempts, d.deliver_until, e.url
                FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id WHERE d.id = $1
                """, [deliveryID]) else { return .notClaimed }
        let endpointID: Int64 = try row.get("endpoint_id")
        let body = Array(try row.get("payload", as: String.self).utf8)
        let started = ContinuousClock.now
        var status: Int?
        var failure: String?
        let excerpt = Excerpt(limit: Self.excerptBytes)
        do {
            let secret = try endpoints.secret(endpointID: endpointID)
            let timestamp = clock.now()
            let destination = try WebhookDestination(try row.get("url"), allowPrivate: allowPrivate)
            var request = HTTPRequest(method: "POST", url: destination.url, headers: [
                ("Content-Type", "application/json"), ("Intake-Event", try row.get("type")), ("Intake-Delivery", try row.get("event_id")),
                ("Intake-Signature", WebhookSignature.header(secret: secret, timestamp: timestamp, body: body)),
            ], body: .bytes(body))
            request.timeoutSeconds = Self.timeoutSeconds
            if NetworkAddress(destination.host) == nil {
                let addresses = try destination.addresses(allowPrivate: allowPrivate, resolve: resolve)
                request.pinnedAddresses = [destination.pin(addresses)]
            }
            status = try http.perform(request, streams: 100...999) { excerpt.append($0) }.status
        } catch let error as ValidationError {
            failure = error.message
        } catch {
            failure = "\(error)"
        }
        let elapsed = started.duration(to: .now).components
        let milliseconds = elapsed.seconds * 1000 + elapsed.attoseconds / 1_000_000_000_000_000
        return try record(row: row, status: status, failure: failure, milliseconds: milliseconds, excerpt: excerpt.text)
    }

    private func record(row: Row, status: Int?, failure: String?, milliseconds: Int64, excerpt: String) throws -> Outcome {
        let id: Int64 = try row.get("id"), endpointID: Int64 = try row.get("endpoint_id")
        let attempts = try row.get("attempts", as: Int.self) + 1
        let now = clock.now()
        let ok = status.map { (200...299).contains($0) } ?? false
        let reason = failure ?? "HTTP \(status ?? 0)"
        let outcome: Outcome = try db.write {
            try db.execute("""
                INSERT INTO webhook_attempts (delivery_id, attempted_at, status_code, error, duration_ms, response_excerpt) VALUES ($1, $2, $3, $4, $5, $6)
                """, [id, now, status, failure.map { String($0.prefix(500)) }, max(0, milliseconds), excerpt])
            if ok {
                try db.execute("UPDATE webhook_deliveries SET status = 'delivered', attempts = $1, delivered_at = $2 WHERE id = $3", [attempts, now, id])
                try db.execute("UPDATE webhook_endpoints SET failing_since = NULL WHERE id = $1", [endpointID])
                return .delivered(status: status!)
            }
            try db.execute("UPDATE webhook_endpoints SET failing_since = coalesce(failing_since, $1) WHERE id = $2", [now, endpointID])
            if let next = WebhookSchedule.nextAttempt(after: attempts, now: now, until: try row.get("deliver_until")) {
                try db.execute("UPDATE webhook_deliveries SET attempts = $1, next_attempt_at = $2 WHERE id = $3", [attempts, next, id])
                return .retrying(reason)
            }
            try db.execute("UPDATE webhook_deliveries SET status = 'failed', attempts = $1 WHERE id = $2", [attempts, id])
            return .failed(reason)
        }
        // Ids and the outcome only: never the secret, the signature or the body.
        switch outcome {
        case .retrying(let why):
            Self.log.warning("webhook attempt failed", metadata: ["endpoint_id": "\(endpointID)", "delivery_id": "\(id)", "attempt": "\(attempts)",
                                                                 "reason": "\(why)"])
        case .failed(let why):
            Self.log.warning("webhook delivery failed for good", metadata: ["endpoint_id": "\(endpointID)", "delivery_id": "\(id)",
                                                                           "attempts": "\(attempts)", "reason": "\(why)"])
        default: break
        }
        return outcome
    }

    /// Removes delivered and failed deliveries (and their attempts) older than
    /// `WebhookSchedule.retentionSeconds`, at most `limit` a pass; returns how many.
    @discardableResult
    public func removeOld(limit: Int = 5000) throws -> Int {
        try db.execute("""
            DELETE FROM webhook_deliveries WHERE id IN (
                SELECT id FROM webhook_deliveries WHERE created_at < $1 AND status <> 'pending' ORDER BY created_at LIMIT $2)
            """, [clock.now() - WebhookSchedule.retentionSeconds, limit])
    }

    /// Switches off every endpoint whose attempts have all failed for `WebhookSchedule.disableAfterSeconds`
    /// and mails its owner (through the outbox, in the same transaction); returns how many.
    public func disableFailing(dashboardURL: String) throws -> Int {
        let now = clock.now(), cutoff = now - WebhookSchedule.disableAfterSeconds
        let rows = try db.query("""
            SELECT e.id, e.url, e.user_id, u.email FROM webhook_endpoints e JOIN users u ON u.id = e.user_id
            WHERE e.enabled = 1 AND e.failing_since IS NOT NULL AND e.failing_since <= $1 ORDER BY e.id
            """, [cutoff])
        var disabled = 0
        for row in rows {
            let id: Int64 = try row.get("id"), url: String = try row.get("url")
            let switched = try db.write { () throws -> Bool in
                guard try db.execute("""
                    UPDATE webhook_endpoints SET enabled = 0, disabled_reason = $1, updated_at = $2
                    WHERE id = $3 AND enabled = 1 AND failing_since IS NOT NULL AND failing_since <= $4
                    """, ["Every attempt failed for three days", now, id, cutoff]) == 1 else { return false }
                try AuditLog(db: db, clock: clock).record(AuditLog.Actor(userID: nil, remoteAddress: ""), action: "webhook_endpoint.disable",
                                                          entityType: "webhook_endpoint", entityID: String(id), after: [("reason", "failing for three days")])
                try MailOutbox(db: db, clock: clock).enqueue(
                    to: try row.get("email"), subject: "A webhook endpoint was switched off: \(url.prefix(80))",
                    body: """
                    Intake could not deliver any event to \(url) for three days, so the endpoint was switched off.
                    Events are no longer sent to it. Once the receiver works again, switch it back on at \(dashboardURL)/\(id).
                    """)
                return true
            }
            if switched {
                disabled += 1
                Self.log.warning("webhook endpoint switched off after three days of failures", metadata: ["endpoint_id": "\(id)"])
            }
        }
        return disabled
    }
}

/// The first bytes of a receiver's answer, as printable text for the attempt log.
private final class Excerpt {
    let limit: Int
    private var bytes: [UInt8] = []

    init(limit: Int) { self.limit = limit }

    func append(_ chunk: UnsafeRawBufferPointer) {
        guard bytes.count < limit else { return }
        bytes += chunk.prefix(limit - bytes.count)
    }

    var text: String {
        String(String(decoding: bytes, as: UTF8.self).unicodeScalars.map { $0.value < 0x20 && $0 != "\n" && $0 != "\t" ? " " : Character($0) }.prefix(limit))
    }
}
