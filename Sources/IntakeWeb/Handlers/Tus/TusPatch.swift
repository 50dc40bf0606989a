import Intake
import Web

/// `PATCH /api/tus/:id`: a chunk at `Upload-Offset`.
enum TusPatch {
    static func handle(_ context: RequestContext) throws -> Response {
        if let mismatch = TusProtocol.versionMismatch(context) { return mismatch }
        guard context.request.mediaType == TusProtocol.offsetStream else {
            return TusProtocol.failure(.unsupportedMediaType, "Send chunks as \(TusProtocol.offsetStream).")
        }
        guard let text = context.request.headers["upload-offset"], let offset = Int64(text), offset >= 0 else {
            return TusProtocol.failure(.badRequest, "Send Upload-Offset with the offset this chunk starts at.")
        }
        return TusProtocol.append(context, TusProtocol.uploads(context), id: context.request.parameters["id"] ?? "", offset: offset,
                                  into: Response(status: .noContent))
    }
}
