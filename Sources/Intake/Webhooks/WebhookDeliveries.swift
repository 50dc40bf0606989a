import Database

/// One attempt to send a delivery, as the endpoint's page shows it.
public struct WebhookAttempt: Sendable, Equatable {
    public let attemptedAt: Int64
    public let statusCode: Int?
    public let error: String?
    public let durationMilliseconds: Int64
    public let responseExcerpt: String
}

/// One event for one endpoint, with its attempts (oldest first).
public struct WebhookDelivery: Sendable, Equatable {
    public let id: Int64
    public let eventID: String
    public let type: String
    public let status: String
    public let attempts: Int
    public let nextAttemptAt: Int64?
    public let createdAt: Int64
    public var log: [WebhookAttempt]
}

/// The deliveries of one owner's endpoint: the recent ones with each attempt, "send again" and
/// "send test event". Every call names the owner, so another owner's endpoint is not found.
public struct WebhookDeliveries {
    let db: Database
    let clock: EpochClock

    public init(db: Database, clock: EpochClock) {
        self.db = db
        self.clock = clock
    }

    /// The endpoint's latest `limit` deliveries, newest first, each with its attempts.
    public func recent(endpointID: Int64, userID: Int64, limit: Int = 50) throws -> [WebhookDelivery] {
        var deliveries = try db.query("""
            SELECT d.* FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
            WHERE d.endpoint_id = $1 AND e.user_id = $2 ORDER BY d.id DESC LIMIT $3
            """, [endpointID, userID, limit]).map { row in
                let status: String = try row.get("status")
                return WebhookDelivery(id: try row.get("id"), eventID: try row.get("event_id"), type: try row.get("type"), status: status,
                                       attempts: try row.get("attempts"), nextAttemptAt: status == "pending" ? try row.get("next_attempt_at") : nil,
                                       createdAt: try row.get("created_at"), log: [])
            }
        guard let oldest = deliveries.last?.id, let newest = deliveries.first?.id else { return [] }
        let attempts = try db.query("""
            SELECT a.* FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id
            WHERE d.endpoint_id = $1 AND a.delivery_id BETWEEN $2 AND $3 ORDER BY a.id
            """, [endpointID, oldest, newest])
        var byDelivery: [Int64: [WebhookAttempt]] = [:]
        for row in attempts {
            byDelivery[try row.get("delivery_id"), default: []].append(WebhookAttempt(
                attemptedAt: try row.get("attempted_at"), statusCode: try row.get("status_code"), error: try row.get("error"),
                durationMilliseconds: try row.get("duration_ms"), responseExcerpt: try row.get("response_excerpt")))
        }
        for index in deliveries.indices { deliveries[index].log = byDelivery[deliveries[index].id] ?? [] }
        return deliveries
    }

    /// Puts one of the owner's deliveries back in line to be sent now (once more if it had
    /// failed or was delivered; sooner if it is still being retried). Its id, or nil when it is
    /// not theirs or the endpoint is off.
    public func sendAgain(deliveryID: Int64, endpointID: Int64, userID: Int64, by actor: AuditLog.Actor) throws -> Int64? {
        try db.write {
            let now = clock.now()
            guard try db.execute("""
                UPDATE webhook_deliveries SET status = 'pending', delivered_at = NULL, next_attempt_at = $1,
                       deliver_until = CASE WHEN status = 'pending' THEN deliver_until ELSE $1 END
                WHERE id = $2 AND endpoint_id = $3
                  AND endpoint_id IN (SELECT id FROM webhook_endpoints WHERE user_id = $4 AND enabled = 1)
                """, [now, deliveryID, endpointID, userID]) == 1 else { return nil }
            try AuditLog(db: db, clock: clock).record(actor, action: "webhook_delivery.send_again", entityType: "webhook_delivery", entityID: String(deliveryID))
            return deliveryID
        }
    }

    /// Queues a `webhook.test` event for one of the owner's enabled endpoints; the delivery's id,
    /// or nil when the endpoint is not theirs or is off.
    public func queueTest(endpointID: Int64, userID: Int64) throws -> Int64? {
        try db.write {
            guard try db.scalar("SELECT count(*) FROM webhook_endpoints WHERE id = $1 AND user_id = $2 AND enabled = 1",
                                [endpointID, userID], as: Int.self) == 1 else { return nil }
            let eventID = try WebhookEvents(db: db, clock: clock).queue(endpoints: [endpointID], type: .test,
                                                                          data: ["object": "test", "message": "A test event from Intake."])
            return try db.scalar("SELECT id FROM webhook_deliveries WHERE endpoint_id = $1 AND event_id = $2", [endpointID, eventID], as: Int64.self)
        }
    }
}
