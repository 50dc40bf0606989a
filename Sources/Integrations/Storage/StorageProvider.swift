/// Where an uploaded file goes: Google Drive, Dropbox or local disk, behind one protocol so the
/// upload pipeline does not care which.
public protocol StorageProvider {
    /// Stores `length` bytes of the spool file at `spoolPath` as `fileName` in `folder` (a path of
    /// folder names under the provider's Intake root). Returns where it landed.
    func store(spoolPath: String, length: Int64, fileName: String, contentType: String, folder: [String]) throws -> StoredFile

    /// Removes a stored file; a file already gone is not an error.
    func delete(fileID: String) throws

    /// The size of a stored file, or nil when the provider no longer has it (deleted or trashed).
    func size(fileID: String) throws -> Int64?

    /// Streams the `length` bytes of a stored file to `sink`, in order and each once; a transfer
    /// cut short resumes where it stopped. What `sink` throws ends the download.
    func download(fileID: String, length: Int64, into sink: (UnsafeRawBufferPointer) throws -> Void) throws
}

/// A file as a provider stored it.
public struct StoredFile: Sendable, Equatable {
    /// The provider's id (Drive file id, Dropbox id, or the local path relative to the root).
    public let fileID: String
    /// A human path: `Intake/Portal/Client/report.pdf`.
    public let path: String
    public let size: Int64

    public init(fileID: String, path: String, size: Int64) {
        self.fileID = fileID
        self.path = path
        self.size = size
    }
}

/// Why a provider could not store or delete a file.
public struct StorageProviderError: Error, CustomStringConvertible, Sendable {
    public let message: String
    /// Whether trying again later may succeed.
    public let transient: Bool
    public init(_ message: String, transient: Bool) {
        self.message = message
        self.transient = transient
    }
    public var description: String { message }
}
