import Intake
import Web

/// `POST /api/upload` (the portal named by a `portalId` field before the files): the same as the
/// form post for scripts, answered in the seed's shape —
/// `{"success":true,"uploadId":…,"fileName":…,"storageProvider":…}` for the first file, and
/// `files` with every file.
enum UploadAPICreate {
    static func handle(_ context: RequestContext) throws -> Response {
        let files = try PortalUploadForm.receive(context, expectedPortal: nil)
        guard let first = files.first else { throw HTTPError.badRequest("The form had no file.", code: "no_file") }
        return .json([
            "success": true, "uploadId": .string(String(first.uploadID)), "fileName": .string(first.fileName),
            "storageProvider": .string(first.provider.rawValue),
            "files": .array(files.map { ["uploadId": .string(String($0.uploadID)), "fileName": .string($0.fileName), "size": .int($0.size),
                                         "sha256": .string($0.sha256), "status": .string($0.status.rawValue),
                                         "receipt": .string($0.receipt)] }),
        ])
    }
}
