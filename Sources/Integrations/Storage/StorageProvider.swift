/// Where an uploaded file goes: Google Drive, Dropbox or local disk, behind one protocol so the
/// upload pipeline does not care which.
public protocol StorageProvider {
    /// Stores `length` bytes of the spool file at `spoolPath` as `fileName` in `folder` (a path of
    /// folder names under the provider's Intake root). Returns where it landed, with the
    /// checksums the provider reports. A provider with resumable transfers hands `checkpoint`
    /// where its transfer stands whenever that changes; given that state back as `resume` (after
    /// a crash, in another process), it goes on from there instead of starting over.
    func store(spoolPath: String, length: Int64, fileName: String, contentType: String, folder: [String],
               resume: ProviderSession?, checkpoint: (ProviderSession) throws -> Void) throws -> StoredFile

    /// Removes a stored file; a file already gone is not an error.
    func delete(fileID: String) throws

    /// The size of a stored file, or nil when the provider no longer has it (deleted or trashed).
    func size(fileID: String) throws -> Int64?

    /// Streams the `length` bytes of a stored file to `sink`, in order and each once; a transfer
    /// cut short resumes where it stopped. What `sink` throws ends the download.
    func download(fileID: String, length: Int64, into sink: (UnsafeRawBufferPointer) throws -> Void) throws

    /// Every file in Intake's folder and the folders under it (folders themselves are not
    /// listed), with the ids `store` returns for them; none when there is no Intake folder yet.
    /// Whole or not at all: a listing cut short is an error, never a shorter list.
    func listFiles() throws -> [ListedFile]

    /// Moves a listed file out of Intake's folder into the quarantine folder beside it
    /// (`IntakeFolder.quarantine`), keeping the folders it was in and its name (renamed only
    /// where that name is taken there). Never deletes anything; returns where the file is now.
    func quarantine(_ file: ListedFile) throws -> ListedFile
}

extension StorageProvider {
    /// A transfer from the start, its progress not kept.
    public func store(spoolPath: String, length: Int64, fileName: String, contentType: String, folder: [String]) throws -> StoredFile {
        try store(spoolPath: spoolPath, length: length, fileName: fileName, contentType: contentType, folder: folder, resume: nil) { _ in }
    }
}

/// The folders Intake keeps at a provider, under the provider's root (the Drive's root, the
/// Dropbox, the account's local folder).
public enum IntakeFolder {
    /// Every uploaded file lands under it: `Intake/<portal folder>[/<client>]/<name>`.
    public static let name = "Intake"
    /// Where reconciliation moves files that no upload refers to. Beside `Intake`, not in it: no
    /// portal folder, whatever its name, can be it, and what it holds is never listed as Intake's.
    public static let quarantine = "Intake Quarantine"

    /// The quarantine's folders for a file at `path`: `Intake/Portal/Client/a.pdf` →
    /// `["Intake Quarantine", "Portal", "Client"]` (a path outside Intake keeps all its folders).
    public static func quarantineFolders(for path: String) -> [String] {
        var folders = path.split(separator: "/").map(String.init).dropLast()
        if folders.first == name { folders = folders.dropFirst() }
        return [quarantine] + folders
    }
}

/// A file found at a provider by `listFiles`.
public struct ListedFile: Codable, Sendable, Equatable {
    /// The provider's id, as `StoredFile.fileID` gives it (Drive file id, Dropbox id, or the local
    /// path relative to the account's root).
    public let fileID: String
    /// A human path from the provider's root: `Intake/Portal/Client/report.pdf`.
    public let path: String
    /// Bytes; nil where the provider keeps no size (a Google Docs file).
    public let size: Int64?

    public init(fileID: String, path: String, size: Int64?) {
        self.fileID = fileID
        self.path = path
        self.size = size
    }

    /// The last component of `path`.
    public var name: String { path.split(separator: "/").last.map(String.init) ?? path }
}

/// Where a provider's resumable transfer stands: the Drive session URI, or the Dropbox upload
/// session and the bytes it holds. Saved as JSON with the file's row.
public struct ProviderSession: Codable, Sendable, Equatable {
    public var provider: String
    /// Drive: the resumable session URI.
    public var url: String?
    /// Dropbox: the upload session id, and the offset it holds.
    public var id: String?
    public var offset: Int64

    public init(provider: String, url: String? = nil, id: String? = nil, offset: Int64 = 0) {
        self.provider = provider
        self.url = url
        self.id = id
        self.offset = offset
    }
}

/// A file as a provider stored it.
public struct StoredFile: Sendable, Equatable {
    /// The provider's id (Drive file id, Dropbox id, or the local path relative to the root).
    public let fileID: String
    /// A human path: `Intake/Portal/Client/report.pdf`.
    public let path: String
    public let size: Int64
    /// What the provider says the content hashes to, lower-case hex by name: `sha256`, `md5`
    /// (Drive), `dropbox-content-hash` (Dropbox's block scheme), or `sha256` of the bytes in place (local disk).
    public let checksums: [String: String]

    public init(fileID: String, path: String, size: Int64, checksums: [String: String] = [:]) {
        self.fileID = fileID
        self.path = path
        self.size = size
        self.checksums = checksums
    }
}

/// Why a provider could not store or delete a file.
public struct StorageProviderError: Error, CustomStringConvertible, Sendable {
    public let message: String
    /// Whether trying again later may succeed.
    public let transient: Bool
    /// The resumable session given to resume is gone at the provider: start a new one.
    public var sessionLost = false
    /// What the failure says about the whole account, beyond this file.
    public var accountProblem: AccountProblem?

    /// A refusal that concerns the account, not the file.
    public enum AccountProblem: Sendable, Equatable {
        /// The owner's storage is full: the account stays usable, the owner must free space.
        case full
        /// The grant no longer covers storing files: the account needs the owner to reconnect it.
        case reconnect
    }

    public init(_ message: String, transient: Bool, sessionLost: Bool = false, accountProblem: AccountProblem? = nil) {
        self.message = message
        self.transient = transient
        self.sessionLost = sessionLost
        self.accountProblem = accountProblem
    }
    public var description: String { message }
}
