import Intake
import Web

/// `POST /dashboard/webhooks/:id/test`: a `webhook.test` event to this endpoint, sent at once
/// (and retried like any other if it fails).
enum WebhookTestSend {
    static func handle(_ context: RequestContext) throws -> Response {
        let endpoint = try WebhookPages.owned(context)
        guard let delivery = try context.stores.webhookDeliveries.queueTest(endpointID: endpoint.id, userID: context.user!.id) else {
            context.flash(.error, "The endpoint is switched off: switch it on to send it events.")
            return .redirect(to: "/dashboard/webhooks/\(endpoint.id)")
        }
        try WebhookPages.sendNow(context, deliveryID: delivery)
        return .redirect(to: "/dashboard/webhooks/\(endpoint.id)")
    }
}
