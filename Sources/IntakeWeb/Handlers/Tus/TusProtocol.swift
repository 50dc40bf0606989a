import Checksums
import Foundation
import Intake
import Web

/// What the tus actions share (https://tus.io/protocols/resumable-upload): the version and
/// extensions this server speaks, the headers every answer carries, failures as the protocol
/// answers them, and appending a chunk (PATCH, and POST with creation-with-upload).
///
/// Resumable portal uploads live at `/api/tus/`: the core protocol and the creation,
/// creation-with-upload, termination, expiration and checksum extensions. `Upload-Metadata`
/// carries the portal (`portalId` or `portal`, its slug), the file (`filename`/`name`,
/// `filetype`/`type`), the client's fields (`clientName`, `clientEmail`, `clientMessage`) and a
/// password portal's `token`.
///
/// These requests read no cookie: an upload's authority is its unguessable URL and, at
/// creation, the portal's own rules. So there is nothing for a CSRF token to protect; a
/// browser's cross-site `Origin` is still refused.
enum TusProtocol {
    static let version = "1.0.0"
    static let extensions = "creation,creation-with-upload,termination,expiration,checksum"
    static let checksumAlgorithms: [(String, StreamingDigest.Algorithm)] = [("sha1", .sha1), ("sha256", .sha256), ("md5", .md5)]
    static let offsetStream = "application/offset+octet-stream"

    /// The domain's tus uploads for this request.
    static func uploads(_ context: RequestContext) -> TusUploads {
        TusUploads(env: context.services.uploadEnvironment(), lifetime: context.services.configuration.tusLifetimeSeconds)
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

    /// A refusal in plain text, tagged with the protocol version.
    static func failure(_ status: HTTPStatus, _ message: String) -> Response {
        tagged(.text(message + "\n", status: status))
    }

    /// `Tus-Resumable`, which every answer but OPTIONS's must carry.
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

    /// RFC 9110 IMF-fixdate, as `Upload-Expires` takes.
    static func httpDate(_ epoch: Int64) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(epoch)))
    }
}
