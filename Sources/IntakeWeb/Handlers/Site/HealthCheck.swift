import Intake
import Web

/// `GET /healthz`: whether this worker can answer and reach its database.
enum HealthCheck {
    static func handle(_ context: RequestContext) throws -> Response {
        let databaseOK = context.stores.databaseAnswers()
        if !databaseOK {
            context.services.logger.error("health check: database unreachable", metadata: ["request_id": "\(context.request.id)"])
        }
        return Response(status: databaseOK ? .ok : .serviceUnavailable,
                        headers: ["content-type": "application/json", "cache-control": "no-store"],
                        body: .bytes(databaseOK ? healthy : body(databaseOK: false)))
    }

    /// The answer while the database answers, serialized once.
    static let healthy = body(databaseOK: true)

    static func body(databaseOK: Bool) -> [UInt8] {
        let body: JSONValue = [
            "status": databaseOK ? "ok" : "error",
            "version": .string(IntakeVersion.current),
            "database": databaseOK ? "ok" : "unreachable",
        ]
        return body.serialized()
    }
}
