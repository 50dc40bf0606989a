import Intake
import Templates
import Web

/// `dashboard/webhooks` (the owner's endpoints and the form for a new one) and
/// `dashboard/webhook` (one endpoint: its settings, buttons and recent deliveries with each
/// attempt). A secret just made is shown on the page that answers the post that made it, once.
enum WebhookPages {
    /// The list page; `form` keeps the create form's values and errors.
    static func list(_ context: RequestContext, form: FormState = FormState(), status: HTTPStatus = .ok) throws -> Response {
        let endpoints = try context.stores.webhookEndpoints.list(userID: context.user!.id)
        let chosen = Set((form.values["events"] ?? "").split(separator: ",").map(String.init))
        return try PageView.render(context, "dashboard/webhooks", title: "Webhooks", status: status, [
            "endpoints": .list(endpoints.map(row)),
            "hasEndpoints": .bool(!endpoints.isEmpty),
            "form": form.templateValue,
            "events": .list(WebhookEventType.subscribable.map { type in
                ["value": .string(type.rawValue), "summary": .string(type.summary), "id": .string(type.rawValue.replacingOccurrences(of: ".", with: "_")),
                 "checked": .bool(chosen.contains(type.rawValue))]
            }),
            "allowPrivate": .bool(context.services.configuration.webhooksAllowPrivate),
        ])
    }

    /// One endpoint's page; `newSecret` is a secret just made, shown this once.
    static func show(_ context: RequestContext, endpoint: WebhookEndpoint, newSecret: String? = nil, status: HTTPStatus = .ok) throws -> Response {
        let deliveries = try context.stores.webhookDeliveries.recent(endpointID: endpoint.id, userID: context.user!.id)
        var response = try PageView.render(context, "dashboard/webhook", title: "Webhook endpoint", status: status, [
            "endpoint": row(endpoint),
            "newSecret": newSecret.map(TemplateValue.string) ?? .null,
            "deliveries": .list(deliveries.map { delivery in
                ["id": .int(delivery.id), "eventID": .string(delivery.eventID), "type": .string(delivery.type), "status": .string(delivery.status),
                 "statusLabel": .string(label(delivery)), "created": UTCDate.moment(delivery.createdAt),
                 "next": delivery.nextAttemptAt.map(UTCDate.moment) ?? .null,
                 "attempts": .list(delivery.log.enumerated().map { index, attempt in
                     ["number": .int(Int64(index + 1)), "at": UTCDate.moment(attempt.attemptedAt),
                      "result": .string(attempt.statusCode.map { "HTTP \($0)" } ?? (attempt.error ?? "")),
                      "ok": .bool(attempt.statusCode.map { (200...299).contains($0) } ?? false),
                      "duration": .string("\(attempt.durationMilliseconds) ms"),
                      "excerpt": attempt.responseExcerpt.isEmpty ? .null : .string(attempt.responseExcerpt)]
                 }),
                 "hasAttempts": .bool(!delivery.log.isEmpty)]
            }),
            "hasDeliveries": .bool(!deliveries.isEmpty),
        ])
        // A secret is in this page only: no cache may keep it.
        if newSecret != nil { response.headers.set("cache-control", "no-store") }
        return response
    }

    static func label(_ delivery: WebhookDelivery) -> String {
        switch delivery.status {
        case "delivered": "Delivered"
        case "failed": "Failed"
        default: delivery.attempts == 0 ? "Queued" : "Retrying"
        }
    }

    static func row(_ endpoint: WebhookEndpoint) -> TemplateValue {
        ["id": .int(endpoint.id), "url": .string(endpoint.url), "description": .string(endpoint.description),
         "hasDescription": .bool(!endpoint.description.isEmpty),
         "events": .string(endpoint.events.map(\.rawValue).joined(separator: ", ")),
         "enabled": .bool(endpoint.enabled), "disabledReason": endpoint.disabledReason.map(TemplateValue.string) ?? .null,
         "failingSince": endpoint.failingSince.map(UTCDate.moment) ?? .null,
         "created": .string(UTCDate.day(endpoint.createdAt))]
    }

    /// One of the signed-in owner's endpoints by the path's id; another owner's is a 404 like a missing one.
    static func owned(_ context: RequestContext) throws -> WebhookEndpoint {
        guard let endpoint = try context.stores.webhookEndpoints.find(id: try context.pathID(), userID: context.user!.id) else {
            throw HTTPError(.notFound, code: "not_found", "There is no such webhook endpoint of yours.")
        }
        return endpoint
    }

    /// Sends delivery `id` now, from this request (the jobs would within a few seconds anyway),
    /// and says how it went in the flash.
    static func sendNow(_ context: RequestContext, deliveryID: Int64) throws {
        let services = context.services
        let sender = WebhookSender(db: services.database, clock: services.clock, secretKey: services.secretKey, http: try services.curl(),
                                   allowPrivate: services.configuration.webhooksAllowPrivate)
        switch try sender.send(deliveryID: deliveryID) {
        case .delivered(let status): context.flash(.success, "Sent: the endpoint answered HTTP \(status).")
        case .retrying(let why): context.flash(.error, "The endpoint did not take it (\(why.prefix(200))); Intake tries again later.")
        case .failed(let why): context.flash(.error, "The endpoint did not take it (\(why.prefix(200))).")
        case .notClaimed: context.flash(.success, "Queued: it is being sent.")
        }
    }
}
