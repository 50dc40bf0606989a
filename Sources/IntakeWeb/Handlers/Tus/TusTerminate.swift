import Intake
import Web

/// `DELETE /api/tus/:id`: termination (the upload and its bytes removed).
enum TusTerminate {
    static func handle(_ context: RequestContext) throws -> Response {
        if let mismatch = TusProtocol.versionMismatch(context) { return mismatch }
        do {
            try TusProtocol.uploads(context).terminate(id: context.request.parameters["id"] ?? "")
            return TusProtocol.tagged(Response(status: .noContent))
        } catch let failure as TusFailure {
            return TusProtocol.answer(failure)
        }
    }
}
