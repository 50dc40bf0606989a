import Intake
import Web

/// `OPTIONS /api/tus/` (and `/api/tus/:id`): what this server speaks.
enum TusOptions {
    static func handle(_ context: RequestContext) throws -> Response {
        var response = Response(status: .noContent)
        response.headers.set("tus-version", TusProtocol.version)
        response.headers.set("tus-extension", TusProtocol.extensions)
        response.headers.set("tus-max-size", String(PortalRules.defaultMaxFileBytes))
        response.headers.set("tus-checksum-algorithm", TusProtocol.checksumAlgorithms.map(\.0).joined(separator: ","))
        return TusProtocol.tagged(response)
    }
}
