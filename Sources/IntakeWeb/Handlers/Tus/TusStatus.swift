import Intake
import Web

/// `GET /api/tus/:id`: where the upload stands as JSON, for the portal page's receipt (not part of tus).
enum TusStatus {
    static func handle(_ context: RequestContext) throws -> Response {
        do {
            let upload = try TusProtocol.uploads(context).live(id: context.request.parameters["id"] ?? "")
            return TusProtocol.tagged(.json([
                "offset": .int(upload.offset), "length": .int(upload.length), "status": .string(upload.status),
                "fileName": .string(upload.fileName), "reason": upload.failureReason.map(JSONValue.string) ?? .null,
                "uploadId": upload.fileUploadID.map { .string(String($0)) } ?? .null,
            ]))
        } catch let failure as TusFailure {
            return TusProtocol.answer(failure)
        }
    }
}
