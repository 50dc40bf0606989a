import Intake
import Web

/// `GET /dashboard/webhooks/:id`: one endpoint with its recent deliveries and each attempt.
enum WebhookShow {
    static func handle(_ context: RequestContext) throws -> Response {
        try WebhookPages.show(context, endpoint: try WebhookPages.owned(context))
    }
}
