import Intake
import Web

/// `GET /api/receipts/:token`, for the portal page's script:
/// `{"fileName":…,"status":…,"statusText":…,"final":…}`.
enum ReceiptAPIShow {
    static func handle(_ context: RequestContext) throws -> Response {
        guard let entry = try ReceiptEntry.find(context, token: context.request.parameters["token"] ?? "") else {
            throw HTTPError(.notFound, code: "not_found", "There is no such receipt.")
        }
        let described = entry.described
        var response = Response.json(["fileName": .string(entry.name), "status": .string(entry.status), "statusText": .string(described.text),
                                      "final": .bool(described.final)])
        response.headers.set("cache-control", "no-store")
        return response
    }
}
