import Database
import Foundation
import Integrations
import Spool

/// The steps of DESIGN.md's upload pipeline for one portal, shared by the two ways a file
/// arrives: a multipart request (`UploadSession`) and a resumable tus upload (`TusUploads`).
/// `admit` is steps 1–3 (portal, password, client fields, account by getUploadRules, quota
/// reservation); `complete` is steps 4–7 for a file already spooled (type by magic bytes, scan,
/// store at the provider, record with binding, usage, audit and mail).
public struct UploadPipeline {
    let env: UploadEnvironment
    let portal: Portal
    let remoteAddress: String

    public init(env: UploadEnvironment, portal: Portal, remoteAddress: String) {
        self.env = env
        self.portal = portal
        self.remoteAddress = remoteAddress
    }

    /// A file received whole into a spool: its bytes are flushed and hashed.
    public struct Spooled {
        public let path: String
        public let size: Int64
        public let sha256: String
        /// The first bytes, for the type check.
        public let head: [UInt8]
        public let name: String
        public let contentType: String

        public init(path: String, size: Int64, sha256: String, head: [UInt8], name: String, contentType: String) {
            self.path = path
            self.size = size
            self.sha256 = sha256
            self.head = head
            self.name = name
            self.contentType = contentType
        }
    }

    /// The largest file the portal takes: its own limit, never above the owner's plan.
    public func maxFileBytes() throws -> Int64 {
        try PortalStore(db: env.db, clock: env.clock).fileLimit(of: portal)
    }

    /// Refuses, before any of it is read, a request body declared larger than the portal could
    /// ever take (every file it allows at its largest) or than the owner's storage has room for.
    public func checkDeclaredLength(_ bytes: Int64) throws {
        let maxFile = try maxFileBytes()
        guard bytes <= Self.maxRequestBytes(maxFiles: portal.maxFiles, maxFileBytes: maxFile) else {
            throw UploadRefusal(.tooLarge, "This upload is larger than the portal accepts (at most \(portal.maxFiles) files of \(ByteSize(bytes: maxFile)) each).")
        }
        let remaining = try QuotaReservations(db: env.db, clock: env.clock).remaining(userID: portal.userID)
        guard bytes <= remaining else {
            throw UploadRefusal(.overQuota, UploadRefusal.storageFullMessage(remaining: remaining, needed: bytes))
        }
    }

    /// The largest request body that could carry an upload the portal accepts: every file it
    /// allows at its largest, and room for the form fields and part headers. A request that
    /// declares more is refused before any of it is read.
    public static func maxRequestBytes(maxFiles: Int, maxFileBytes: Int64) -> Int64 {
        Int64(maxFiles) * (maxFileBytes + 16 * 1024) + 1024 * 1024
    }

    /// A request body of at most this many bytes is read whole before its quota is taken: as each
    /// of its files is recorded, in the same transaction, the owner must still have room for the
    /// rest of the request (its declared length less the files already recorded), so parallel
    /// requests still cannot pass a quota between them, and a request whose files would not all
    /// fit is refused at its first file, as a reservation would have refused it. A reservation,
    /// held while a larger body streams in, costs two writes of its own (made, then released), as
    /// many as recording and delivering a small file; at this size the most a refused request
    /// made the server read is a megabyte, which `checkDeclaredLength` had found room for.
    public static let unreservedRequestBytes: Int64 = 1024 * 1024

    /// What a file's bytes are taken from as it is recorded.
    public enum QuotaSource: Sendable, Equatable {
        /// The request's reservation.
        case reservation(Int64)
        /// The owner's room, which must hold `restOfRequest` bytes (at least the file's own).
        case room(restOfRequest: Int64)
    }

    /// Steps 1–3: whether the portal takes an upload of `bytes` with these client fields, and the
    /// account it goes to with a reservation of `bytes` held for `lifetime` seconds — by this
    /// process when `processBound` (a request's reservation dies with its worker).
    public func admit(fields: [String: String], bytes: Int64, lifetime: Int64 = QuotaReservations.lifetimeSeconds, processBound: Bool = true) throws
        -> (account: StorageAccount, reservationID: Int64) {
        let account = try accept(fields: fields)
        return (account, try reserve(bytes: bytes, lifetime: lifetime, processBound: processBound))
    }

    /// Steps 1–2: whether the portal takes an upload with these client fields, and the account
    /// it goes to.
    public func accept(fields: [String: String]) throws -> StorageAccount {
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
        let accounts = try StorageAccountStore(db: env.db, clock: env.clock).list(userID: portal.userID)
        let rules = accounts.map { StorageRules.Account(id: $0.id, provider: $0.provider, status: $0.status) }
        switch StorageRules.uploadDecision(portalAccountID: portal.storageAccountID, backupAccountID: portal.backupStorageAccountID,
                                           portalProvider: nil, accounts: rules) {
        case .refuse(let message): throw UploadRefusal(.closed, message)
        case .use(let id, _), .failover(let id, _): return accounts.first { $0.id == id }!
        }
    }

    /// Step 3: `bytes` of the owner's quota held for `lifetime` seconds, or the refusal that
    /// says how much room is left.
    public func reserve(bytes: Int64, lifetime: Int64 = QuotaReservations.lifetimeSeconds, processBound: Bool = true) throws -> Int64 {
        switch try QuotaReservations(db: env.db, clock: env.clock).reserve(userID: portal.userID, bytes: bytes, lifetime: lifetime,
                                                                                holder: processBound ? LeaseHolder(of: env.liveness) : nil) {
        case .reserved(let id): return id
        case .overQuota(let remaining):
            throw UploadRefusal(.overQuota, UploadRefusal.storageFullMessage(remaining: remaining, needed: bytes))
        }
    }

    /// Steps 4–7 for one spooled file: type and scan; then in one transaction the record (bound
    /// to its account for good, `delivering`, the spool moved to the deliveries folder), `size`
    /// bytes of the reservation turned into usage (without one, of the owner's room, or the
    /// refusal), and the audit entry; then the first delivery
    /// attempt, here in the request. A provider that refuses for good takes the file back out
    /// (the client is told); a transient failure leaves it to the delivery runner.
    /// `step` hears the scan and the delivery begin (a resumable upload moves its lifecycle by them).
    public func complete(_ file: Spooled, fields: [String: String], account: StorageAccount, quota source: QuotaSource,
                         step: (TusUploadEvent) throws -> Void = { _ in }) throws -> ReceivedFile {
        if case .refused(let message) = FileTypes.check(fileName: file.name, head: file.head, accepted: portal.accepted) {
            throw UploadRefusal(.type, message)
        }
        try step(.scanStarts)
        try scan(file)
        try step(.deliveryStarts)
        // A portal from before folder names existed has none: its own name stands in.
        var folder = [portal.folderName.isEmpty ? portal.name : portal.folderName]
        if portal.clientSubfolders, let client = fields["clientName"]?.trimmingSpaces(), !client.isEmpty { folder.append(client) }
        let spool = try SpoolError.refusing { try env.spool.moveToDeliveries(file.path) }
        // The row is born leased to this request, so no delivery thread takes it first.
        let deliveries = Deliveries(env: env)
        let receiptSecret = UploadReceipt.newSecret()
        let id: Int64
        do {
            id = try env.db.write {
                let now = env.clock.now()
                let id = try env.db.scalar("""
                    INSERT INTO file_uploads (portal_id, user_id, storage_account_id, file_name, content_type, size_bytes, sha256, client_name,
                                              client_email, client_message, status, spool_path, target_folder, deliver_until, receipt_secret,
                                              created_at, updated_at)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $16, $11, $12, $13, $14, $15, $15) RETURNING id
                    """, [portal.id, portal.userID, account.id, file.name, file.contentType, file.size, file.sha256, fields["clientName"],
                          fields["clientEmail"], fields["clientMessage"], spool,
                          String(decoding: try JSONEncoder().encode(folder), as: UTF8.self), now + env.deliveryWindow, receiptSecret, now,
                          FileUploadStatus.delivering.rawValue],
                    as: Int64.self)!
                // A new row in this transaction: nobody else can hold it yet.
                _ = try deliveries.claim(id)
                let quota = QuotaReservations(db: env.db, clock: env.clock)
                switch source {
                case .reservation(let reservationID):
                    try quota.consume(reservationID: reservationID, bytes: file.size)
                case .room(let rest):
                    let needed = max(rest, file.size)
                    if !(try quota.use(userID: portal.userID, bytes: file.size, room: needed)) {
                        let remaining = try quota.remaining(userID: portal.userID)
                        throw UploadRefusal(.overQuota, UploadRefusal.storageFullMessage(remaining: remaining, needed: needed))
                    }
                }
                try AuditLog(db: env.db, clock: env.clock).record(AuditLog.Actor(userID: nil, remoteAddress: remoteAddress), action: "upload.received",
                                                                  entityType: "file_upload", entityID: String(id),
                                                                  after: [("portal", portal.slug), ("size", String(file.size)), ("sha256", file.sha256)])
                return id
            }
        } catch {
            Spool.remove(spool)
            throw error
        }
        let status: FileUploadStatus
        switch try deliveries.attempt(id, inline: true) {
        case .uploaded: status = .uploaded
        case .retrying, .busy, .failed: status = .delivering
        case .refused(let message):
            try deliveries.rollBack(id, reason: message, remoteAddress: remoteAddress)
            throw UploadRefusal(.storage, "The file could not be stored: \(message)")
        }
        // A client is never told which account took the file: while the portal fails over to its
        // backup, the provider named is still the portal's own.
        var provider = account.provider
        if let own = portal.storageAccountID, own != account.id, let ownAccount = try StorageAccountStore(db: env.db, clock: env.clock).find(id: own) {
            provider = ownAccount.provider
        }
        return ReceivedFile(uploadID: id, fileName: file.name, size: file.size, sha256: file.sha256, provider: provider, status: status,
                            receipt: UploadReceipt.token(uploadID: id, secret: receiptSecret, key: env.secretKey))
    }

    /// How long a scan waits out clamd being away (a restart takes a few seconds) before the
    /// upload is refused.
    static let scannerPatienceMilliseconds = 10_000

    /// Step 5: clamd, for every file whatever its type (a name or a signature proves nothing
    /// about the rest of a file), unless scanning is off. Fails closed, but
    /// rides out a short outage: a scan that could not reach clamd, or lost it half way, is made
    /// again every half second for up to `scannerPatienceMilliseconds`.
    private func scan(_ file: Spooled) throws {
        guard let scanner = env.scanner else { return }
        var verdict: ScanVerdict?
        var waited = 0
        while verdict == nil {
            do {
                verdict = try scanner.scan(path: file.path, length: file.size)
            } catch let unavailable as ScannerUnavailable {
                guard unavailable.retryable, waited < Self.scannerPatienceMilliseconds else {
                    throw UploadRefusal(.scannerDown, "Files cannot be checked for viruses right now, so “\(file.name)” was not accepted. Please try again later.")
                }
                env.clock.pause(milliseconds: 500)
                waited += 500
            }
        }
        if case .infected(let signature)? = verdict {
            try AuditLog(db: env.db, clock: env.clock).record(AuditLog.Actor(userID: nil, remoteAddress: remoteAddress),
                action: "upload.infected", entityType: "portal", entityID: String(portal.id),
                after: [("file_name", file.name), ("signature", signature)])
            throw UploadRefusal(.infected, "“\(file.name)” contains malware (\(signature)) and was refused.")
        }
    }
}
