import Intake
import Web

/// `POST /dashboard/webhooks/:id/deliveries/:delivery/resend`: "send again" — the same event (same
/// id and body, a fresh signature) sent once more, now.
enum WebhookDeliveryResend {
    static func handle(_ context: RequestContext) throws -> Response {
        let endpoint = try WebhookPages.owned(context)
        guard let delivery = try context.stores.webhookDeliveries.sendAgain(deliveryID: try context.pathID("delivery"), endpointID: endpoint.id,
                                                                            userID: context.user!.id, by: context.actor) else {
            if !endpoint.enabled {
                context.flash(.error, "The endpoint is switched off: switch it on to send it events.")
                return .redirect(to: "/dashboard/webhooks/\(endpoint.id)")
            }
            throw HTTPError(.notFound, code: "not_found", "There is no such delivery of this endpoint.")
        }
        try WebhookPages.sendNow(context, deliveryID: delivery)
        return .redirect(to: "/dashboard/webhooks/\(endpoint.id)")
    }
}
