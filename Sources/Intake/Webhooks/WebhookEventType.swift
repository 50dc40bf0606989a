/// What a webhook reports. The raw values are the `type` of the payload and of `Intake-Event`.
public enum WebhookEventType: String, Sendable, CaseIterable {
    case uploadCompleted = "upload.completed"
    case deliveryFailed = "delivery.failed"
    case storageAccountStatusChanged = "storage_account.status_changed"
    case portalDeactivated = "portal.deactivated"
    case portalReactivated = "portal.reactivated"
    case purchaseCompleted = "purchase.completed"
    /// Sent only by the owner's "send test event" button, whatever the endpoint subscribes to.
    case test = "webhook.test"

    /// The types an endpoint can subscribe to (all but the test event).
    public static var subscribable: [WebhookEventType] { allCases.filter { $0 != .test } }

    /// What the event means, for the form.
    public var summary: String {
        switch self {
        case .uploadCompleted: "A client's file was stored in your storage"
        case .deliveryFailed: "A file could not be stored, for good (retries used up)"
        case .storageAccountStatusChanged: "A storage account changed state (active, error, disconnected, inactive)"
        case .portalDeactivated: "A portal was switched off, by you or because its storage stopped working"
        case .portalReactivated: "A portal was switched on again"
        case .purchaseCompleted: "You bought extra storage"
        case .test: "A test event (the “send test event” button)"
        }
    }
}
