import Intake
import Web

/// `POST /dashboard/webhooks` (`url`, `description`, `events` repeated): registers an endpoint and
/// answers with its page, showing the signing secret this once (never in a redirect, a cookie or
/// a log).
enum WebhookCreate {
    static func handle(_ context: RequestContext) throws -> Response {
        let form = context.formFields
        let url = String((form["url"] ?? "").prefix(2100)), description = String((form["description"] ?? "").prefix(300))
        let events = Array(form.values("events").prefix(20))
        switch try context.stores.webhookEndpoints.create(userID: context.user!.id, url: url, description: description, events: events,
                                                         allowPrivate: context.services.configuration.webhooksAllowPrivate, by: context.actor) {
        case .success(let created):
            if context.request.prefersJSON {
                var response = Response.json(["id": .int(created.endpoint.id), "secret": .string(created.secret)], status: .created)
                response.headers.set("cache-control", "no-store")
                return response
            }
            context.flash(.success, "The endpoint was added.")
            return try WebhookPages.show(context, endpoint: created.endpoint, newSecret: created.secret, status: .created)
        case .failure(let errors):
            return try FormAnswer.invalid(context, errors) {
                try WebhookPages.list(context, form: FormState(values: ["url": url, "description": description, "events": events.joined(separator: ",")],
                                                               errors: errors.messages), status: .unprocessableContent)
            }
        }
    }
}
