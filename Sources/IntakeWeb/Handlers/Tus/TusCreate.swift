import Intake
import Web

/// `POST /api/tus/`: creation (and creation-with-upload when a body comes along), checked
/// against the portal's rules before a byte is kept.
enum TusCreate {
    static func handle(_ context: RequestContext) throws -> Response {
        if let mismatch = TusProtocol.versionMismatch(context) { return mismatch }
        let request = context.request
        if request.headers["upload-defer-length"] != nil {
            return TusProtocol.failure(.badRequest, "Send Upload-Length: this server needs the size up front to check it against the portal's limits.")
        }
        guard let lengthText = request.headers["upload-length"], let length = Int64(lengthText), length >= 0 else {
            return TusProtocol.failure(.badRequest, "Send Upload-Length with the file's size in bytes.")
        }
        let metadata: [String: String]
        do {
            metadata = try TusMetadata.parse(request.headers["upload-metadata"] ?? "")
        } catch let error as ValidationError {
            return TusProtocol.failure(.badRequest, error.message)
        }
        let store = context.stores.portals
        let portal = try metadata["portalId"].flatMap { Int64($0) }.flatMap { try store.find(id: $0) }
            ?? metadata["portal"].flatMap { try store.find(slug: $0) }
        guard let portal else { return TusProtocol.failure(.notFound, "Name the portal in Upload-Metadata (portalId or portal).") }
        let uploads = TusProtocol.uploads(context)
        let upload: TusUpload
        do {
            upload = try uploads.create(portal: portal, fields: metadata, fileName: metadata["filename"] ?? metadata["name"] ?? "",
                                        contentType: String((metadata["filetype"] ?? metadata["type"] ?? "application/octet-stream").prefix(200)),
                                        length: length, remoteAddress: request.remoteAddress)
        } catch let refusal as UploadRefusal {
            return TusProtocol.failure(refusal.status, refusal.message)
        }
        var response = Response(status: .created)
        response.headers.set("location", "/api/tus/\(upload.id)")
        if request.mediaType == TusProtocol.offsetStream, (request.body.declaredLength ?? 1) > 0, length > 0 {
            // creation-with-upload: the first chunk came with the creation.
            response = TusProtocol.append(context, uploads, id: upload.id, offset: 0, into: response)
            if response.status.code >= 300 { response.headers.set("location", "/api/tus/\(upload.id)") }
            return response
        }
        return TusProtocol.describe(upload, into: response, key: context.services.secretKey)
    }
}
