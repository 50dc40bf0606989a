import Intake
import Web

/// `POST /dashboard/webhooks/:id/delete`: the endpoint goes, with its deliveries and their log.
enum WebhookDelete {
    static func handle(_ context: RequestContext) throws -> Response {
        guard try context.stores.webhookEndpoints.delete(id: try context.pathID(), userID: context.user!.id, by: context.actor) else {
            throw HTTPError(.notFound, code: "not_found", "There is no such webhook endpoint of yours.")
        }
        return FormAnswer.saved(context, "The endpoint was deleted.", redirect: "/dashboard/webhooks")
    }
}
