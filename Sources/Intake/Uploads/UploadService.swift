import Database
import Foundation
import Integrations

/// An upload refused, with the status family and the message for the client.
public struct UploadRefusal: Error, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable { case closed, password, invalid, tooLarge, type, overQuota, infected, scannerDown, storage }
    public let kind: Kind
    public let message: String
    public var description: String { message }
    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }
}

/// A file that arrived and was stored.
public struct ReceivedFile: Sendable, Equatable {
    public let uploadID: Int64
    public let fileName: String
    public let size: Int64
    public let sha256: String
    public let provider: StorageProviderKind
}

/// What the upload pipeline is built from, injected so tests swap the scanner and providers.
public struct UploadEnvironment {
    public let db: Database
    public let clock: Clock
    public let secretKey: [UInt8]
    public let spoolDirectory: String
    /// nil: scanning is off (the admin overview says so).
    public let scanner: ClamdScanner?
    /// The provider for a storage account.
    public let provider: (StorageAccount) throws -> StorageProvider

    public init(db: Database, clock: Clock, secretKey: [UInt8], spoolDirectory: String, scanner: ClamdScanner?,
                provider: @escaping (StorageAccount) throws -> StorageProvider) {
        self.db = db
        self.clock = clock
        self.secretKey = secretKey
        self.spoolDirectory = spoolDirectory
        self.scanner = scanner
        self.provider = provider
    }
}

/// One upload request to a portal, driven by the multipart parser's events: the form fields
/// first, then the files. The seven steps of DESIGN.md: validate, resolve the account, reserve
/// quota, spool while hashing, scan, store at the provider, record (binding, usage, audit, mail).
public final class UploadSession {
    let env: UploadEnvironment
    let portal: Portal
    let declaredLength: Int64
    let remoteAddress: String
    private var fields: [String: String] = [:]
    private var started = false
    private var account: StorageAccount?
    private var reservationID: Int64?
    private var spool: SpoolWriter?
    private var current: (name: String, contentType: String)?
    public private(set) var received: [ReceivedFile] = []

    public init(env: UploadEnvironment, portal: Portal, declaredLength: Int64, remoteAddress: String) {
        self.env = env
        self.portal = portal
        self.declaredLength = declaredLength
        self.remoteAddress = remoteAddress
    }

    deinit { abort() }

    public func field(_ name: String, _ value: String) throws {
        guard !started else { throw UploadRefusal(.invalid, "Send the form fields before the files.") }
        fields[name] = value
    }

    /// Steps 1–3, once, at the first file: the portal, its password, the client's fields, the
    /// account (getUploadRules) and a quota reservation for the whole request.
    private func start() throws {
        started = true
        guard portal.active else { throw UploadRefusal(.closed, "This portal cannot accept uploads right now.") }
        if portal.hasPassword && !PortalAccess.isValid(fields["token"] ?? "", portalID: portal.id, now: env.clock.now(), key: env.secretKey) {
            throw UploadRefusal(.password, "Enter the portal's password first.")
        }
        for (field, mode, label) in [("clientName", portal.clientNameMode, "your name"), ("clientEmail", portal.clientEmailMode, "your e-mail address")] {
            let value = (fields[field] ?? "").trimmingSpaces()
            if mode == .required && value.isEmpty { throw UploadRefusal(.invalid, "Enter \(label).") }
            if value.count > 200 { throw UploadRefusal(.invalid, "Use at most 200 characters for \(label).") }
        }
        if let email = fields["clientEmail"], !email.trimmingSpaces().isEmpty, (try? UserRules.email(email)) == nil {
            throw UploadRefusal(.invalid, "Enter an e-mail address like name@example.com.")
        }
        if (fields["clientMessage"] ?? "").count > 5000 { throw UploadRefusal(.invalid, "Use at most 5000 characters for the message.") }
        let store = StorageAccountStore(db: env.db, clock: env.clock)
        let accounts = try store.list(userID: portal.userID)
        let rules = accounts.map { StorageRules.Account(id: $0.id, provider: $0.provider, status: $0.status) }
        switch StorageRules.uploadDecision(portalAccountID: portal.storageAccountID, portalProvider: nil, accounts: rules) {
        case .refuse(let message): throw UploadRefusal(.closed, message)
        case .use(let id, _): account = accounts.first { $0.id == id }
        }
        switch try QuotaReservations(db: env.db, clock: env.clock).reserve(userID: portal.userID, bytes: declaredLength) {
        case .reserved(let id): reservationID = id
        case .overQuota(let remaining):
            throw UploadRefusal(.overQuota, "The portal owner's storage is full: \(ByteSize(bytes: remaining)) left, this upload needs \(ByteSize(bytes: declaredLength)).")
        }
    }

    public func beginFile(name: String, contentType: String?) throws {
        if !started { try start() }
        guard received.count < portal.maxFiles else { throw UploadRefusal(.invalid, "Send at most \(portal.maxFiles) files at a time.") }
        let limit = min(portal.maxFileBytes ?? PortalRules.defaultMaxFileBytes, declaredLength)
        spool = try SpoolWriter(directory: env.spoolDirectory, limit: limit)
        current = (name.isEmpty ? "file" : name, contentType ?? "application/octet-stream")
    }

    public func fileChunk(_ bytes: UnsafeRawBufferPointer) throws {
        guard let spool else { return }
        do {
            try spool.write(bytes)
        } catch let tooLarge as SpoolWriter.TooLarge {
            throw UploadRefusal(.tooLarge, "“\(current?.name ?? "The file")” is larger than \(ByteSize(bytes: tooLarge.limit)).")
        }
    }

    /// Steps 4–6 for the file just read: type, scan, store, record.
    public func endFile() throws {
        guard let spool, let current, let account, let reservationID else { return }
        defer { spool.abandon(); self.spool = nil; self.current = nil }
        let sha256 = try spool.finish()
        if case .refused(let message) = FileTypes.check(fileName: current.name, head: spool.head, allowedExtensions: portal.allowedExtensions) {
            throw UploadRefusal(.type, message)
        }
        let kind = FileTypes.kinds.first { $0.extensions.contains(FileTypes.fileExtension(current.name) ?? "") }
        if kind?.safe != true, let scanner = env.scanner {
            do {
                if case .infected(let signature) = try scanner.scan(path: spool.path, length: spool.size) {
                    try AuditLog(db: env.db, clock: env.clock).record(AuditLog.Actor(userID: nil, remoteAddress: remoteAddress),
                        action: "upload.infected", entityType: "portal", entityID: String(portal.id),
                        after: [("file_name", current.name), ("signature", signature)])
                    throw UploadRefusal(.infected, "“\(current.name)” contains malware (\(signature)) and was refused.")
                }
            } catch let unavailable as ScannerUnavailable {
                _ = unavailable
                throw UploadRefusal(.scannerDown, "Files cannot be checked for viruses right now, so “\(current.name)” was not accepted. Please try again later.")
            }
        }
        // A portal from before folder names existed has none: its own name stands in.
        var folder = [portal.folderName.isEmpty ? portal.name : portal.folderName]
        if portal.clientSubfolders, let client = fields["clientName"]?.trimmingSpaces(), !client.isEmpty { folder.append(client) }
        let stored: StoredFile
        do {
            stored = try env.provider(account).store(spoolPath: spool.path, length: spool.size, fileName: current.name,
                                                     contentType: current.contentType, folder: folder)
        } catch let error as StorageProviderError {
            throw UploadRefusal(.storage, "The file could not be stored: \(error.message)")
        }
        let size = spool.size
        let id: Int64 = try env.db.write {
            let now = env.clock.now()
            let id = try env.db.scalar("""
                INSERT INTO file_uploads (portal_id, user_id, storage_account_id, provider_file_id, provider_path, file_name, content_type,
                                          size_bytes, sha256, client_name, client_email, client_message, status, created_at, updated_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'uploaded', $13, $13) RETURNING id
                """, [portal.id, portal.userID, account.id, stored.fileID, stored.path, current.name, current.contentType, size, sha256,
                      fields["clientName"], fields["clientEmail"], fields["clientMessage"], now], as: Int64.self)!
            try QuotaReservations(db: env.db, clock: env.clock).consume(reservationID: reservationID, bytes: size)
            try AuditLog(db: env.db, clock: env.clock).record(AuditLog.Actor(userID: nil, remoteAddress: remoteAddress), action: "upload.received",
                                                              entityType: "file_upload", entityID: String(id),
                                                              after: [("portal", portal.slug), ("size", String(size)), ("sha256", sha256)])
            if let owner = try env.db.scalar("SELECT email FROM users WHERE id = $1", [portal.userID], as: String.self) {
                let client = fields["clientName"].map { " from \($0)" } ?? ""
                try MailOutbox(db: env.db, clock: env.clock).enqueue(
                    to: owner, subject: "New upload to \(portal.name): \(current.name)",
                    body: "\(current.name) (\(ByteSize(bytes: size)))\(client) arrived through your portal “\(portal.name)”.\nIt is stored at \(stored.path).")
            }
            return id
        }
        received.append(ReceivedFile(uploadID: id, fileName: current.name, size: size, sha256: sha256, provider: account.provider))
    }

    /// Step 7: releases what the reservation still holds.
    public func finish() throws {
        if let reservationID { try QuotaReservations(db: env.db, clock: env.clock).release(reservationID: reservationID) }
        reservationID = nil
    }

    /// On any failure: the spool goes, the reservation is released; files already recorded stay.
    public func abort() {
        spool?.abandon()
        spool = nil
        if let reservationID { try? QuotaReservations(db: env.db, clock: env.clock).release(reservationID: reservationID) }
        reservationID = nil
    }
}
