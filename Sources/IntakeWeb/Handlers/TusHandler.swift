import Checksums
import Foundation
import Intake
import Sodium
import Web

/// Resumable portal uploads over the tus 1.0 protocol at `/api/tus/`: the core protocol and the
/// creation, creation-with-upload, termination, expiration and checksum extensions
/// (https://tus.io/protocols/resumable-upload). `Upload-Metadata` carries the portal
/// (`portalId` or `portal`, its slug), the file (`filename`/`name`, `filetype`/`type`), the client's
/// fields (`clientName`, `clientEmail`, `clientMessage`) and a password portal's `token`.
///
/// These requests read no cookie: an upload's authority is its unguessable URL and, at
/// creation, the portal's own rules. So there is nothing for a CSRF token to protect; a
/// browser's cross-site `Origin` is still refused.
enum TusHandler {
    static let version = "1.0.0"
    static let extensions = "creation,creation-with-upload,termination,expiration,checksum"
    static let checksumAlgorithms: [(String, StreamingDigest.Algorithm)] = [("sha1", .sha1), ("sha256", .sha256), ("md5", .md5)]
    static let offsetStream = "application/offset+octet-stream"

    static func uploads(_ context: RequestContext) -> TusUploads {
        TusUploads(env: context.services.uploadEnvironment(), lifetime: context.services.configuration.tusLifetimeSeconds)
    }

    /// `OPTIONS /api/tus/`: what this server speaks.
    static func options(_ context: RequestContext) throws -> Response {
        var response = Response(status: .noContent)
        response.headers.set("tus-version", version)
        response.headers.set("tus-extension", extensions)
        response.headers.set("tus-max-size", String(PortalRules.defaultMaxFileBytes))
        response.headers.set("tus-checksum-algorithm", checksumAlgorithms.map(\.0).joined(separator: ","))
        return tagged(response)
    }

    /// `POST /api/tus/`: creation (and creation-with-upload when a body comes along).
    static func create(_ context: RequestContext) throws -> Response {
        if let mismatch = versionMismatch(context) { return mismatch }
        let request = context.request
        if request.headers["upload-defer-length"] != nil {
            return failure(.badRequest, "Send Upload-Length: this server needs the size up front to check it against the portal's limits.")
        }
        guard let lengthText = request.headers["upload-length"], let length = Int64(lengthText), length >= 0 else {
            return failure(.badRequest, "Send Upload-Length with the file's size in bytes.")
        }
        let metadata: [String: String]
        do {
            metadata = try parseMetadata(request.headers["upload-metadata"] ?? "")
        } catch let error as ValidationError {
            return failure(.badRequest, error.message)
        }
        let store = context.stores.portals
        let portal = try metadata["portalId"].flatMap { Int64($0) }.flatMap { try store.find(id: $0) }
            ?? metadata["portal"].flatMap { try store.find(slug: $0) }
        guard let portal else { return failure(.notFound, "Name the portal in Upload-Metadata (portalId or portal).") }
        let uploads = uploads(context)
        let upload: TusUpload
        do {
            upload = try uploads.create(portal: portal, fields: metadata, fileName: metadata["filename"] ?? metadata["name"] ?? "",
                                        contentType: String((metadata["filetype"] ?? metadata["type"] ?? "application/octet-stream").prefix(200)),
                                        length: length, remoteAddress: request.remoteAddress)
        } catch let refusal as UploadRefusal {
            return failure(refusal.status, refusal.message)
        }
        var response = Response(status: .created)
        response.headers.set("location", "/api/tus/\(upload.id)")
        if request.mediaType == offsetStream, (request.body.declaredLength ?? 1) > 0, length > 0 {
            // creation-with-upload: the first chunk came with the creation.
            response = append(context, uploads, id: upload.id, offset: 0, into: response)
            if response.status.code >= 300 { response.headers.set("location", "/api/tus/\(upload.id)") }
            return response
        }
        return describe(upload, into: response, key: context.services.secretKey)
    }

    /// `HEAD /api/tus/:id`: where the upload stands.
    static func head(_ context: RequestContext) throws -> Response {
        if let mismatch = versionMismatch(context) { return mismatch }
        do {
            let upload = try uploads(context).live(id: context.request.parameters["id"] ?? "")
            var response = describe(upload, into: Response(status: .ok), key: context.services.secretKey)
            response.headers.set("upload-length", String(upload.length))
            let metadata = ["filename": upload.fileName, "filetype": upload.contentType].merging(upload.fields) { a, _ in a }
            response.headers.set("upload-metadata", metadata.sorted { $0.key < $1.key }
                .map { "\($0.key) \(Data($0.value.utf8).base64EncodedString())" }.joined(separator: ","))
            return response
        } catch let failure as TusFailure {
            return answer(failure)
        }
    }

    /// `GET /api/tus/:id`: the same as JSON, for the portal page's receipt (not part of tus).
    static func status(_ context: RequestContext) throws -> Response {
        do {
            let upload = try uploads(context).live(id: context.request.parameters["id"] ?? "")
            return tagged(.json([
                "offset": .int(upload.offset), "length": .int(upload.length), "status": .string(upload.status),
                "fileName": .string(upload.fileName), "reason": upload.failureReason.map(JSONValue.string) ?? .null,
                "uploadId": upload.fileUploadID.map { .string(String($0)) } ?? .null,
            ]))
        } catch let failure as TusFailure {
            return answer(failure)
        }
    }

    /// `PATCH /api/tus/:id`: a chunk at `Upload-Offset`.
    static func patch(_ context: RequestContext) throws -> Response {
        if let mismatch = versionMismatch(context) { return mismatch }
        guard context.request.mediaType == offsetStream else {
            return failure(.unsupportedMediaType, "Send chunks as \(offsetStream).")
        }
        guard let text = context.request.headers["upload-offset"], let offset = Int64(text), offset >= 0 else {
            return failure(.badRequest, "Send Upload-Offset with the offset this chunk starts at.")
        }
        return append(context, uploads(context), id: context.request.parameters["id"] ?? "", offset: offset, into: Response(status: .noContent))
    }

    /// `DELETE /api/tus/:id`: termination.
    static func terminate(_ context: RequestContext) throws -> Response {
        if let mismatch = versionMismatch(context) { return mismatch }
        do {
            try uploads(context).terminate(id: context.request.parameters["id"] ?? "")
            return tagged(Response(status: .noContent))
        } catch let failure as TusFailure {
            return answer(failure)
        }
    }

    /// Appends the request body; `response` is what success looks like.
    static func append(_ context: RequestContext, _ uploads: TusUploads, id: String, offset: Int64, into response: Response) -> Response {
        let request = context.request
        var checksum: (StreamingDigest.Algorithm, [UInt8])?
        if let header = request.headers["upload-checksum"] {
            let parts = header.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, let algorithm = checksumAlgorithms.first(where: { $0.0 == parts[0].lowercased() })?.1 else {
                return failure(.badRequest, "Upload-Checksum takes one of \(checksumAlgorithms.map(\.0).joined(separator: ", ")) and a base64 digest.")
            }
            guard let digest = Data(base64Encoded: String(parts[1])) else { return failure(.badRequest, "The Upload-Checksum digest is not base64.") }
            checksum = (algorithm, Array(digest))
        }
        do {
            let upload = try uploads.append(id: id, offset: offset, checksum: checksum, declaredLength: request.body.declaredLength,
                                            remoteAddress: request.remoteAddress) { try request.body.read(into: $0) }
            return describe(upload, into: response, key: context.services.secretKey)
        } catch let failure as TusFailure {
            return answer(failure)
        } catch let refusal as UploadRefusal {
            var response = failure(refusal.status, refusal.message)
            if let upload = try? uploads.find(id: id) { response = describe(upload, into: response, key: context.services.secretKey) }
            return response
        } catch {
            context.services.logger.error("tus append failed", metadata: ["request_id": "\(request.id)", "error": "\(error)"])
            return failure(.internalServerError, "The chunk could not be stored. Try again.")
        }
    }

    /// The tus headers of an upload, plus Intake's status of it.
    static func describe(_ upload: TusUpload, into response: Response, key: [UInt8]) -> Response {
        var response = response
        response.headers.set("upload-offset", String(upload.offset))
        response.headers.set("upload-expires", httpDate(upload.expiresAt))
        response.headers.set("intake-upload-status", upload.status)
        if let id = upload.fileUploadID {
            response.headers.set("intake-upload-id", String(id))
            response.headers.set("intake-receipt", UploadReceipt.token(uploadID: id, secret: upload.receiptSecret, key: key))
        }
        response.headers.set("cache-control", "no-store")
        return tagged(response)
    }

    /// A tus failure as the protocol answers it: plain text, `Tus-Resumable`, and the offset for a 409.
    static func answer(_ failure: TusFailure) -> Response {
        var response = self.failure(failure.status, failure.publicMessage)
        if case .offsetConflict(let current) = failure { response.headers.set("upload-offset", String(current)) }
        return response
    }

    static func failure(_ status: HTTPStatus, _ message: String) -> Response {
        tagged(.text(message + "\n", status: status))
    }

    static func tagged(_ response: Response) -> Response {
        var response = response
        response.headers.set("tus-resumable", version)
        return response
    }

    /// Every request but OPTIONS names the protocol version (412 otherwise).
    static func versionMismatch(_ context: RequestContext) -> Response? {
        guard context.request.headers["tus-resumable"] != version else { return nil }
        var response = failure(HTTPStatus(412, "Precondition Failed"), "This server speaks tus \(version); send Tus-Resumable: \(version).")
        response.headers.set("tus-version", version)
        return response
    }

    /// `key base64,key2 base64,flag`: keys are ASCII without spaces or commas and unique; values
    /// are base64 of UTF-8.
    static func parseMetadata(_ header: String) throws -> [String: String] {
        var out: [String: String] = [:]
        guard header.utf8.count <= 16 * 1024 else { throw ValidationError("", "Upload-Metadata is too long.") }
        for pair in header.split(separator: ",") {
            let parts = pair.trimmingCharacters(in: .whitespaces).split(separator: " ", omittingEmptySubsequences: true)
            guard let key = parts.first, parts.count <= 2, key.unicodeScalars.allSatisfy({ $0.isASCII && $0.value > 0x20 }), out[String(key)] == nil else {
                throw ValidationError("", "Upload-Metadata is malformed near “\(pair.prefix(40))”.")
            }
            guard parts.count == 2 else { out[String(key)] = ""; continue }
            guard let data = Data(base64Encoded: String(parts[1])), let value = String(data: data, encoding: .utf8) else {
                throw ValidationError("", "The Upload-Metadata value of “\(key)” is not base64 of UTF-8 text.")
            }
            out[String(key)] = value
        }
        return out
    }

    /// RFC 9110 IMF-fixdate, as `Upload-Expires` takes.
    static func httpDate(_ epoch: Int64) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(epoch)))
    }
}
