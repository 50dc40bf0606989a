import Checksums
import Database
import Foundation
import Sodium
import Spool

/// Resumable uploads (tus 1.0) into portals: creation (checked and reserved against quota up
/// front), appends from any worker process, completion through the `UploadPipeline`,
/// termination and expiry.
///
/// The row's offset and hash state are the authority. An append holds an exclusive `flock` on
/// the spool file (released by the kernel if the process dies), re-reads the row, cuts the spool
/// back to the recorded offset, writes and hashes the chunk, flushes it, and only then records the
/// new offset and hash state in one statement: a crash at any point leaves a row that tells the
/// truth and a spool the next append repairs.
public struct TusUploads {
    let env: UploadEnvironment
    /// How long an upload may rest between chunks before it expires (each chunk extends it).
    public let lifetime: Int64

    public static let defaultLifetime: Int64 = 24 * 3600

    public init(env: UploadEnvironment, lifetime: Int64 = defaultLifetime) {
        self.env = env
        self.lifetime = lifetime
    }


    /// The states in which a chunk (or an empty PATCH retrying a failed completion) is taken.
    /// Whether chunks may still be written (or the completion retried): the upload is open and
    /// no file has been recorded from it (a recorded file's status is the upload's).
    static func isWritable(_ upload: TusUpload) -> Bool { TusUploadStatus(rawValue: upload.status)?.isOpen == true }

    /// How many unfinished uploads one address may hold open on one portal.
    public static let maxOpenPerAddress = 20

    /// How many bytes of a chunk are written before their write-back to disk is started.
    static let writebackStep: Int64 = 8 << 20

    /// The spool folder of resumable uploads.
    var directory: String { env.spool.path(.resumable) }

    func spoolPath(_ id: String) -> String { directory + "/" + id + ".part" }

    /// Ids are 128 random bits in base64url: the URL of an upload is its only key.
    static func isWellFormed(_ id: String) -> Bool {
        id.utf8.count == 22 && id.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x2D || $0 == 0x5F }
    }

    public func find(id: String) throws -> TusUpload? {
        guard Self.isWellFormed(id) else { return nil }
        return try env.db.queryOne("""
            SELECT t.*, f.status AS file_status, f.receipt_secret AS receipt_secret FROM tus_uploads t LEFT JOIN file_uploads f ON f.id = t.file_upload_id WHERE t.id = $1
            """, [id]).map(TusUpload.init(row:))
    }

    /// A live upload: expired ones are `gone` even before the job removes them.
    public func live(id: String) throws -> TusUpload {
        guard let upload = try find(id: id) else { throw TusFailure.notFound }
        guard upload.expiresAt > env.clock.now() else { throw TusFailure.gone }
        return upload
    }

    /// Creation: the portal's rules (steps 1–3 of the pipeline, the size and the type by name)
    /// before any byte is accepted; the whole length is reserved against the owner's quota.
    public func create(portal: Portal, fields: [String: String], fileName: String, contentType: String, length: Int64,
                       remoteAddress: String) throws -> TusUpload {
        let pipeline = UploadPipeline(env: env, portal: portal, remoteAddress: remoteAddress)
        let name = ClientFileName.clean(fileName)
        let limit = try pipeline.maxFileBytes()
        guard length <= limit else {
            throw UploadRefusal(.tooLarge, "“\(name)” is larger than \(ByteSize(bytes: limit)).")
        }
        if case .refused(let message) = FileTypes.check(fileName: name, accepted: portal.accepted) {
            throw UploadRefusal(.type, message)
        }
        // Each open upload holds quota for a day: one address cannot hold a portal's owner hostage.
        let unfinished = try env.db.scalar("""
            SELECT count(*) FROM tus_uploads WHERE portal_id = $1 AND remote_address = $2 AND status = $4 AND expires_at > $3
            """, [portal.id, remoteAddress, env.clock.now(), TusUploadStatus.receiving.rawValue], as: Int.self) ?? 0
        guard unfinished < Self.maxOpenPerAddress else {
            throw UploadRefusal(.tooMany, "You have \(unfinished) unfinished uploads to this portal. Finish or cancel some before starting more.")
        }
        let (account, reservationID) = try pipeline.admit(fields: fields, bytes: length, lifetime: lifetime, processBound: false)
        let id = Digest.base64URL(Sodium.randomBytes(16))
        do {
            _ = try SpoolError.refusing { try env.spool.create(id + ".part", in: .resumable) }
            var kept = fields.filter { ["clientName", "clientEmail", "clientMessage"].contains($0.key) }
            kept = kept.mapValues { String($0.prefix(5000)) }
            let json = String(decoding: try JSONSerialization.data(withJSONObject: kept, options: [.sortedKeys]), as: UTF8.self)
            let now = env.clock.now()
            try env.db.execute("""
                INSERT INTO tus_uploads (id, portal_id, storage_account_id, reservation_id, upload_length, sha256_state, head, file_name,
                                         content_type, client_fields, remote_address, created_at, updated_at, expires_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, $13)
                """, [id, portal.id, account.id, reservationID, length, ResumableSHA256().state, [UInt8](), name, contentType, json,
                      remoteAddress, now, now + lifetime])
        } catch {
            Spool.remove(spoolPath(id))
            try? QuotaReservations(db: env.db, clock: env.clock).release(reservationID: reservationID)
            throw error
        }
        if length == 0 {
            // Nothing to send: the upload is complete at once.
            return try append(id: id, offset: 0, checksum: nil, declaredLength: 0, remoteAddress: remoteAddress) { _ in 0 }
        }
        return try live(id: id)
    }

    /// One PATCH: appends the body at `offset`, then completes the upload when it is whole (or
    /// retries a completion that failed, when an empty chunk comes at the end). `checksum` is the
    /// chunk's algorithm and digest. `read` delivers the body (0 at its end).
    public func append(id: String, offset: Int64, checksum: (StreamingDigest.Algorithm, [UInt8])?, declaredLength: Int64?,
                       remoteAddress: String, read: (UnsafeMutableRawBufferPointer) throws -> Int) throws -> TusUpload {
        let before = try live(id: id)
        guard Self.isWritable(before) else { throw TusFailure.finished(status: before.status) }
        guard let file = try? SpoolFile.open(spoolPath(id)) else { throw TusFailure.notFound }
        // Closed (and its lock given up) only when this append, completion included, is over.
        defer { file.close() }
        guard (try? file.tryLock()) == true else { throw TusFailure.locked }
        // Under the lock: the row as it stands now.
        let upload = try live(id: id)
        guard Self.isWritable(upload) else { throw TusFailure.finished(status: upload.status) }
        guard offset == upload.offset else { throw TusFailure.offsetConflict(current: upload.offset) }
        guard var hash = ResumableSHA256(state: upload.sha256State) else {
            throw ValidationError("", "The upload's saved state is damaged; start it again.")
        }
        try SpoolError.refusing { try file.truncate(to: upload.offset) }

        let digest = checksum.map { StreamingDigest($0.0) }
        var head = upload.head
        var position = upload.offset
        var flushedTo = upload.offset
        var cut = false
        // Small enough that a piece is still in the CPU cache when it is hashed after being written.
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
        defer { buffer.deallocate() }
        func rollBack() { try? file.truncate(to: upload.offset) }
        while true {
            let n: Int
            do {
                n = try read(buffer)
            } catch {
                cut = true
                break
            }
            if n == 0 { break }
            guard Int64(n) <= upload.length - position else {
                rollBack()
                throw TusFailure.pastLength
            }
            let piece = UnsafeRawBufferPointer(rebasing: buffer[0..<n])
            do {
                try file.write(piece, at: position)
            } catch let error as SpoolError {
                rollBack()
                throw error.refusal
            }
            hash.update(piece)
            digest?.update(piece)
            if head.count < FileTypes.headLength { head += piece.prefix(FileTypes.headLength - head.count) }
            position += Int64(n)
            // Start writing back what is complete so far, so the flush at the end of the chunk
            // waits for little (a chunk is only acknowledged once it is on disk).
            if position - flushedTo >= Self.writebackStep {
                file.startWriteBack(offset: flushedTo, length: position - flushedTo)
                flushedTo = position
            }
        }
        if let declaredLength, position - upload.offset < declaredLength { cut = true }
        if let checksum, let digest {
            // A checksum vouches for the whole chunk: a partial one, or one that does not match, is dropped.
            if cut { rollBack(); throw TusFailure.interrupted }
            if digest.finish() != checksum.1 { rollBack(); throw TusFailure.checksumMismatch }
        }
        if position > upload.offset {
            // The last chunk: the file's SHA-256 recorded on it, so local-disk storage, which
            // links this very file, need not read it back (see RecordedSHA256).
            if position == upload.length { RecordedSHA256.record(hash.finish(), on: file) }
            do {
                try file.syncData()
            } catch let error as SpoolError {
                rollBack()
                throw error.refusal
            }
            let now = env.clock.now()
            try env.db.write {
                try env.db.execute("""
                    UPDATE tus_uploads SET upload_offset = $1, sha256_state = $2, head = $3, updated_at = $4, expires_at = $5 WHERE id = $6
                    """, [position, hash.state, head, now, now + lifetime, id])
                if let reservationID = upload.reservationID {
                    try QuotaReservations(db: env.db, clock: env.clock).extend(reservationID: reservationID, until: now + lifetime)
                }
            }
        }
        if cut { throw TusFailure.interrupted }
        let current = try live(id: id)
        guard current.isComplete else { return current }
        return try complete(current, hash: hash, remoteAddress: remoteAddress)
    }

    /// The whole file has arrived (the caller holds the spool's lock): the rest of the pipeline.
    /// A refusal (type, malware, a storage that refuses for good) ends the upload as `rejected`; a
    /// scanner outage leaves it `received` with its bytes and reservation kept, so an empty PATCH
    /// at the end (or the recovery job) tries again. Once recorded, the file's delivery status is
    /// the upload's.
    func complete(_ upload: TusUpload, hash: ResumableSHA256, remoteAddress: String) throws -> TusUpload {
        // Each step of the rest of the pipeline moves the upload by its lifecycle's table.
        var current = TusUploadStatus(rawValue: upload.status) ?? .receiving
        func move(_ event: TusUploadEvent, reason: String? = nil) throws {
            current = try TusUploadLifecycle.next(current, event)
            try setStatus(upload.id, current, reason: reason)
        }
        try move(.complete)
        guard let portal = try PortalStore(db: env.db, clock: env.clock).find(id: upload.portalID),
              let account = try StorageAccountStore(db: env.db, clock: env.clock).find(id: upload.storageAccountID),
              let reservationID = upload.reservationID else {
            try finishRejected(upload, from: current, reason: "The portal or its storage is gone.")
            throw UploadRefusal(.closed, "This portal cannot accept uploads right now.")
        }
        let pipeline = UploadPipeline(env: env, portal: portal, remoteAddress: remoteAddress)
        let file = UploadPipeline.Spooled(path: spoolPath(upload.id), size: upload.length, sha256: Sodium.hex(hash.finish()),
                                          head: upload.head, name: upload.fileName, contentType: upload.contentType)
        do {
            let received = try pipeline.complete(file, fields: upload.fields, account: account, quota: .reservation(reservationID)) { try move($0) }
            env.counters.fileAccepted(.tus, bytes: file.size)
            current = try TusUploadLifecycle.next(current, received.status == .uploaded ? .recordedAndStored : .recordedForDelivery)
            try env.db.write {
                try env.db.execute("UPDATE tus_uploads SET status = $1, file_upload_id = $2, reservation_id = NULL, updated_at = $3 WHERE id = $4",
                                   [current.rawValue, received.uploadID, env.clock.now(), upload.id])
                try QuotaReservations(db: env.db, clock: env.clock).release(reservationID: reservationID)
            }
            Spool.remove(spoolPath(upload.id))
        } catch let refusal as UploadRefusal {
            if refusal.kind == .scannerDown {
                try move(.scannerDown, reason: refusal.message)
            } else {
                try finishRejected(upload, from: current, reason: refusal.message)
            }
            throw refusal
        }
        return try live(id: upload.id)
    }

    private func setStatus(_ id: String, _ status: TusUploadStatus, reason: String?) throws {
        try env.db.execute("UPDATE tus_uploads SET status = $1, failure_reason = $2, updated_at = $3 WHERE id = $4",
                           [status.rawValue, reason, env.clock.now(), id])
    }

    /// Rejected for good: the bytes and the reservation go, the row stays to say why.
    private func finishRejected(_ upload: TusUpload, from current: TusUploadStatus, reason: String) throws {
        let rejected = try TusUploadLifecycle.next(current, .refused)
        try env.db.write {
            try env.db.execute("UPDATE tus_uploads SET status = $1, failure_reason = $2, reservation_id = NULL, updated_at = $3 WHERE id = $4",
                               [rejected.rawValue, reason, env.clock.now(), upload.id])
            if let reservationID = upload.reservationID { try QuotaReservations(db: env.db, clock: env.clock).release(reservationID: reservationID) }
        }
        Spool.remove(spoolPath(upload.id))
    }

    /// Termination: an unfinished upload's bytes, reservation and row go. A delivered file
    /// belongs to the portal owner, so a finished upload cannot be terminated by its client.
    public func terminate(id: String) throws {
        _ = try live(id: id)
        // The lock is held until the upload is gone, so no writer starts in between.
        let file = try? SpoolFile.open(spoolPath(id))
        defer { file?.close() }
        if let file, (try? file.tryLock()) != true { throw TusFailure.locked }
        let upload = try live(id: id)
        guard upload.fileUploadID == nil else { throw TusFailure.finished(status: upload.status) }
        try remove(upload)
    }

    func remove(_ upload: TusUpload) throws {
        try env.db.write {
            try env.db.execute("DELETE FROM tus_uploads WHERE id = $1", [upload.id])
            if let reservationID = upload.reservationID { try QuotaReservations(db: env.db, clock: env.clock).release(reservationID: reservationID) }
        }
        Spool.remove(spoolPath(upload.id))
    }
}
