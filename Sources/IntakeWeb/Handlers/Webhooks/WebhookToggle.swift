import Intake
import Web

/// `POST /dashboard/webhooks/:id/toggle`: the endpoint switched off, or on again (which forgets
/// the failures that may have switched it off).
enum WebhookToggle {
    static func handle(_ context: RequestContext) throws -> Response {
        let endpoint = try WebhookPages.owned(context)
        guard try context.stores.webhookEndpoints.setEnabled(id: endpoint.id, userID: context.user!.id, enabled: !endpoint.enabled, by: context.actor) else {
            throw HTTPError(.notFound, code: "not_found", "There is no such webhook endpoint of yours.")
        }
        return FormAnswer.saved(context, endpoint.enabled ? "The endpoint is switched off: no events are sent to it." : "The endpoint is on again.",
                                redirect: "/dashboard/webhooks/\(endpoint.id)")
    }
}
