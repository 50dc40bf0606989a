import Intake
import Web

/// `GET /healthz`: whether this worker can answer and reach its database.
enum HealthCheck {
    static func handle(_ context: RequestContext) throws -> Response {
        let databaseOK = context.stores.databaseAnswers()
        if !databaseOK {
            context.services.logger.error("health check: database unreachable", metadata: ["request_id": "\(context.request.id)"])
        }
        let body: JSONValue = [
            "status": databaseOK ? "ok" : "error",
            "version": .string(IntakeVersion.current),
            "database": databaseOK ? "ok" : "unreachable",
        ]
        var response = Response.json(body, status: databaseOK ? .ok : .serviceUnavailable)
        response.headers.set("cache-control", "no-store")
        return response
    }
}
