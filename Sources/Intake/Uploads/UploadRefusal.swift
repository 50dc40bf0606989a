/// An upload refused, with the status family and the message for the client.
public struct UploadRefusal: Error, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable { case closed, password, invalid, tooLarge, type, overQuota, infected, scannerDown, storage, tooMany }
    public let kind: Kind
    public let message: String
    public var description: String { message }
    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    /// The owner has less room than an upload needs (none at all when over quota).
    static func storageFullMessage(remaining: Int64, needed: Int64) -> String {
        remaining <= 0 ? "The portal owner's storage is full, so this portal cannot take files right now."
            : "The portal owner's storage is full: \(ByteSize(bytes: remaining)) left, this upload needs \(ByteSize(bytes: needed))."
    }
}

/// A file that arrived and was stored.
public struct ReceivedFile: Sendable, Equatable {
    public let uploadID: Int64
    public let fileName: String
    public let size: Int64
    public let sha256: String
    /// The portal's storage provider as the client is told: its own account's, also while its
    /// backup takes the files.
    public let provider: StorageProviderKind
    /// Uploaded, or delivering while the provider has not taken it yet.
    public let status: FileUploadStatus
    /// The token the client keeps to follow the file (`UploadReceipt`).
    public let receipt: String
}
