import Database
import Foundation

/// A resumable upload as the database holds it.
public struct TusUpload: Sendable, Equatable {
    public let id: String
    public let portalID: Int64
    public let storageAccountID: Int64
    public let reservationID: Int64?
    public let length: Int64
    public let offset: Int64
    public let sha256State: [UInt8]
    public let head: [UInt8]
    public let fileName: String
    public let contentType: String
    /// The client's fields (name, e-mail, message); never the portal token.
    public let fields: [String: String]
    /// receiving → received → scanning → delivering → uploaded, or rejected / failed.
    public let status: String
    public let failureReason: String?
    public let fileUploadID: Int64?
    /// The recorded file's receipt secret, once there is one.
    public let receiptSecret: String?
    public let expiresAt: Int64

    init(row: Row) throws {
        id = try row.get("id")
        portalID = try row.get("portal_id")
        storageAccountID = try row.get("storage_account_id")
        reservationID = try row.get("reservation_id")
        length = try row.get("upload_length")
        offset = try row.get("upload_offset")
        sha256State = try row.get("sha256_state")
        head = try row.get("head")
        fileName = try row.get("file_name")
        contentType = try row.get("content_type")
        let json = try row.get("client_fields", as: String.self)
        fields = (try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: String]) ?? [:]
        // Once the file is recorded, its own status (delivering, uploaded, failed) is the upload's.
        status = try row.get("file_status", as: String?.self) ?? row.get("status")
        failureReason = try row.get("failure_reason")
        fileUploadID = try row.get("file_upload_id")
        receiptSecret = try row.get("receipt_secret")
        expiresAt = try row.get("expires_at")
    }

    public var isComplete: Bool { offset == length }
}

/// Why a tus request cannot be served; the web layer turns each into its status.
public enum TusFailure: Error, Equatable {
    case notFound
    /// The upload expired (410).
    case gone
    /// The client's `Upload-Offset` is not where the upload stands (409).
    case offsetConflict(current: Int64)
    /// Another request is writing to this upload right now (423).
    case locked
    /// The chunk's `Upload-Checksum` does not match what arrived; nothing of it was kept (460).
    case checksumMismatch
    /// More bytes than `Upload-Length` (413).
    case pastLength
    /// The upload is finished: nothing more can be written, and it cannot be terminated.
    case finished(status: String)
    /// The client went away mid-chunk; what arrived is kept unless a checksum had to vouch for it.
    case interrupted
}
