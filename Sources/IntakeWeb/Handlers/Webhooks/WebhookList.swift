import Intake
import Web

/// `GET /dashboard/webhooks`: the owner's webhook endpoints and the form for a new one.
enum WebhookList {
    static func handle(_ context: RequestContext) throws -> Response {
        try WebhookPages.list(context)
    }
}
