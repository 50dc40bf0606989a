import Intake
import Web

/// One file on a receipt: what a client may see of it (its name, size, digest and delivery
/// status), never the owner's storage or a provider's error.
struct ReceiptEntry {
    let token: String
    let name: String
    let size: Int64
    let sha256: String
    let status: String

    /// A file just received.
    init(_ file: ReceivedFile) {
        self.init(token: file.receipt, name: file.fileName, size: file.size, sha256: file.sha256, status: file.status.rawValue)
    }

    init(token: String, name: String, size: Int64, sha256: String, status: String) {
        self.token = token
        self.name = name
        self.size = size
        self.sha256 = sha256
        self.status = status
    }

    /// The file behind a token, if the token is genuine (and, given a portal, the file is its).
    static func find(_ context: RequestContext, token: String, portalID: Int64? = nil) throws -> ReceiptEntry? {
        guard let file = try context.stores.files.find(receipt: token, key: context.services.secretKey),
              portalID == nil || file.portalID == portalID else { return nil }
        return ReceiptEntry(token: token, name: file.fileName, size: file.size, sha256: file.sha256 ?? "", status: file.status)
    }

    /// The delivery status as the client should read it, and whether it can still change.
    var described: (text: String, final: Bool) {
        FileUploadStatus(rawValue: status)?.receiptText ?? (status, true)
    }
}
