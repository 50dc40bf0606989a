/// The webhook stores, beside the others of `Stores`.
extension Stores {
    /// Owners' endpoints, their secrets sealed with the site's key.
    public var webhookEndpoints: WebhookEndpoints { WebhookEndpoints(db: db, clock: clock, secretKey: secretKey) }
    /// An endpoint's deliveries and their attempts; "send again" and the test event.
    public var webhookDeliveries: WebhookDeliveries { WebhookDeliveries(db: db, clock: clock) }
}
