import Intake
import Web

/// `POST /dashboard/webhooks/:id/rotate-secret`: a new signing secret at once, shown this once on
/// the page that answers; the old one signs nothing from now on.
enum WebhookSecretRotate {
    static func handle(_ context: RequestContext) throws -> Response {
        let endpoint = try WebhookPages.owned(context)
        guard let secret = try context.stores.webhookEndpoints.rotateSecret(id: endpoint.id, userID: context.user!.id, by: context.actor) else {
            throw HTTPError(.notFound, code: "not_found", "There is no such webhook endpoint of yours.")
        }
        context.flash(.success, "The endpoint has a new secret; the old one no longer signs events.")
        return try WebhookPages.show(context, endpoint: endpoint, newSecret: secret)
    }
}
