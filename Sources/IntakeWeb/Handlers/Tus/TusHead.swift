import Intake
import Web

/// `HEAD /api/tus/:id`: where the upload stands, with its length and metadata.
enum TusHead {
    static func handle(_ context: RequestContext) throws -> Response {
        if let mismatch = TusProtocol.versionMismatch(context) { return mismatch }
        do {
            let upload = try TusProtocol.uploads(context).live(id: context.request.parameters["id"] ?? "")
            var response = TusProtocol.describe(upload, into: Response(status: .ok), key: context.services.secretKey)
            response.headers.set("upload-length", String(upload.length))
            let metadata = ["filename": upload.fileName, "filetype": upload.contentType].merging(upload.fields) { a, _ in a }
            response.headers.set("upload-metadata", TusMetadata.encode(metadata))
            return response
        } catch let failure as TusFailure {
            return TusProtocol.answer(failure)
        }
    }
}
