import Database
import Logging
import Foundation
import Integrations
import Spool

/// Delivery of received files to their storage provider, apart from the request that brought
/// them: a file is recorded `delivering` with its spool, then delivered by whoever holds its
/// lease — the request itself first, then the delivery runner of any worker process.
///
/// A file's `Lease` (its `lease_holder` and `lease_expires`) is renewed at every checkpoint of the
/// provider transfer. A lease whose process is dead (same host) or whose time is up is free, so a
/// crashed worker's deliveries are taken over at once; the provider's session, saved at each checkpoint, lets the
/// next attempt resume the transfer instead of starting over. After delivery the provider's
/// checksum is compared with the SHA-256 computed while receiving (or the MD5 or Dropbox content
/// hash of the spool): a mismatch deletes the bad copy and is retried, never taken as success.
/// Transient failures retry with backoff until `deliver_until`; then, or on a permanent failure,
/// the file is `failed`, the owner is told, and the spool is kept for a retry.
public struct Deliveries {
    let env: UploadEnvironment
    let holder: LeaseHolder
    /// How long a lease lasts without a checkpoint: longer than one chunk can take on a slow
    /// link (8 MiB at 1 Mbit/s is over a minute), since a second deliverer must never write into
    /// the same provider session. A dead process on this host frees its leases at once anyway;
    /// this is how long another host waits for a host that vanished.
    public var leaseSeconds: Int64 = 600

    /// Each instance is a holder of its own (`host:pid:token`): two threads of one process must
    /// not both think they hold the same lease.
    public init(env: UploadEnvironment) {
        self.env = env
        holder = LeaseHolder(of: env.liveness)
    }

    /// A file's delivery lease: two columns of its `file_uploads` row.
    static let leaseStorage = Lease.Storage(table: "file_uploads", key: "id", holder: "lease_holder", expires: "lease_expires", ownRow: false)

    var lease: Lease { Lease(db: env.db, clock: env.clock, liveness: env.liveness, storage: Self.leaseStorage) }

    public enum Outcome: Equatable, Sendable {
        case uploaded
        /// A transient failure; another attempt is due later.
        case retrying(String)
        /// Given up (permanently refused, or out of time); the spool is kept.
        case failed(String)
        /// Someone else holds the lease.
        case busy
        /// The first attempt, made by the request itself, was refused for good: nothing was
        /// marked, so the request can take the file back and tell the client.
        case refused(String)
    }

    /// Where delivery attempts are logged (the executable configures the handler and level).
    static let log = Logger(label: "intake.deliveries")

    /// The pause before attempt `n + 1`: 5 s, doubling, at most an hour.
    static func backoff(afterAttempt n: Int) -> Int64 { min(3600, 5 << Int64(min(n - 1, 20))) }

    /// Takes the lease of a file that is `delivering`, unless a live holder has it.
    func claim(_ id: Int64) throws -> Bool {
        try env.db.write {
            guard try env.db.scalar("SELECT status FROM file_uploads WHERE id = $1", [id], as: String.self) == FileUploadStatus.delivering.rawValue else {
                return false
            }
            return try lease.acquire(id, for: holder, seconds: leaseSeconds)
        }
    }

    struct LostLease: Error {}

    /// One delivery attempt of file `id`; `inline` when the request that brought it makes it,
    /// holding the lease the row was born with (so it is not claimed again: one write fewer).
    @discardableResult
    public func attempt(_ id: Int64, inline: Bool = false) throws -> Outcome {
        guard try inline || claim(id) else { return .busy }
        guard let row = try env.db.queryOne("SELECT * FROM file_uploads WHERE id = $1", [id]) else { return .busy }
        let spool: String = try row.get("spool_path", as: String?.self) ?? ""
        let size: Int64 = try row.get("size_bytes")
        let sha256: String = try row.get("sha256", as: String?.self) ?? ""
        let name: String = try row.get("file_name")
        let folder = (try row.get("target_folder", as: String?.self)).flatMap { try? JSONDecoder().decode([String].self, from: Data($0.utf8)) } ?? []
        let session = (try row.get("provider_session", as: String?.self)).flatMap { try? JSONDecoder().decode(ProviderSession.self, from: Data($0.utf8)) }
        do {
            guard let accountID = try row.get("storage_account_id", as: Int64?.self),
                  let account = try StorageAccountStore(db: env.db, clock: env.clock).find(id: accountID) else {
                throw StorageProviderError("the storage account is gone", transient: false)
            }
            let provider = try env.provider(account)
            let stored = try provider.store(spoolPath: spool, length: size, fileName: name, contentType: try row.get("content_type", as: String?.self) ?? "application/octet-stream",
                                            folder: folder, resume: session) { progress in
                let json = String(decoding: try JSONEncoder().encode(progress), as: UTF8.self)
                try env.db.write {
                    guard try lease.renew(id, for: holder, seconds: leaseSeconds) else { throw LostLease() }
                    try env.db.execute("UPDATE file_uploads SET provider_session = $1 WHERE id = $2", [json, id])
                }
            }
            if let mismatch = try Self.mismatch(stored, spool: spool, sha256: sha256) {
                try? provider.delete(fileID: stored.fileID)
                throw StorageProviderError("the copy at the provider does not match what was received (\(mismatch)); it was removed", transient: true,
                                           sessionLost: true)
            }
            try delivered(id, row: row, stored: stored)
            Spool.remove(spool)
            return .uploaded
        } catch let error as StorageProviderError {
            try accountProblem(error, row: row)
            if inline && !error.transient {
                Self.log.warning("upload refused by its storage", metadata: ["upload_id": "\(id)", "reason": "\(error.message)"])
                try lease.release(id, by: holder)
                return .refused(error.message)
            }
            return try failedAttempt(id, row: row, error: error)
        } catch is LostLease {
            return .busy
        }
    }

    /// A refusal that concerns the whole account: a grant that no longer covers storing files
    /// disconnects the account (its portals stop, the owner reconnects); a full storage leaves
    /// the account active and tells the owner, at most once an hour.
    private func accountProblem(_ error: StorageProviderError, row: Row) throws {
        guard let problem = error.accountProblem, let accountID = try row.get("storage_account_id", as: Int64?.self) else { return }
        let system = AuditLog.Actor(userID: nil, remoteAddress: "")
        switch problem {
        case .reconnect:
            let store = StorageAccountStore(db: env.db, clock: env.clock)
            guard try store.find(id: accountID)?.status != .disconnected else { return }
            try store.handleStatusChange(accountID: accountID, event: .accessRevoked, reason: error.message, by: system)
        case .full:
            let userID: Int64 = try row.get("user_id")
            let subject = "Your storage is full: files cannot be delivered"
            try env.db.write {
                guard let owner = try env.db.scalar("SELECT email FROM users WHERE id = $1", [userID], as: String.self),
                      try env.db.scalar("SELECT count(*) FROM mail_outbox WHERE to_address = $1 AND subject = $2 AND created_at > $3",
                                        [owner, subject, env.clock.now() - 3600], as: Int.self) == 0 else { return }
                try MailOutbox(db: env.db, clock: env.clock).enqueue(
                    to: owner, subject: subject,
                    body: "\(error.message).\nClients' files cannot be stored until you free space there; the account stays connected.")
            }
        }
        Self.log.warning("storage account refused for the whole account", metadata: ["storage_account_id": "\(accountID)", "problem": "\(problem)"])
    }

    /// The checksum the provider reports that does not match the received bytes, if any.
    static func mismatch(_ stored: StoredFile, spool: String, sha256: String) throws -> String? {
        if let theirs = stored.checksums["sha256"] { return theirs == sha256 ? nil : "SHA-256 \(theirs) instead of \(sha256)" }
        let md5 = stored.checksums["md5"], content = stored.checksums["dropbox-content-hash"]
        guard md5 != nil || content != nil else { return nil }
        let ours: (md5: String?, dropboxContentHash: String?)
        do {
            ours = try SpoolDigests.compute(path: spool, md5: md5 != nil, dropboxContentHash: content != nil)
        } catch let error as SpoolError {
            throw StorageProviderError("the spool file cannot be read (errno \(error.code))", transient: false)
        }
        if let md5, md5 != ours.md5 { return "MD5 \(md5) instead of \(ours.md5 ?? "")" }
        if let content, content != ours.dropboxContentHash { return "content hash \(content) instead of \(ours.dropboxContentHash ?? "")" }
        return nil
    }

    private func delivered(_ id: Int64, row: Row, stored: StoredFile) throws {
        let now = env.clock.now()
        let name: String = try row.get("file_name")
        let userID: Int64 = try row.get("user_id")
        let portalID: Int64 = try row.get("portal_id")
        guard case .to(let status) = try FileUploadLifecycle.next(.delivering, .providerStored) else { return }
        try env.db.write {
            try lease.release(id, by: holder)
            try env.db.execute("""
                UPDATE file_uploads SET status = $5, provider_file_id = $1, provider_path = $2, provider_session = NULL, spool_path = NULL,
                       failure_reason = NULL, delivered_at = $3, updated_at = $3 WHERE id = $4
                """, [stored.fileID, stored.path, now, id, status.rawValue])
            if let accountID = try row.get("storage_account_id", as: Int64?.self) {
                try StorageAccountStore(db: env.db, clock: env.clock).recordAccess(id: accountID)
            }
            try AuditLog(db: env.db, clock: env.clock).record(AuditLog.Actor(userID: nil, remoteAddress: ""), action: "upload.delivered",
                                                              entityType: "file_upload", entityID: String(id),
                                                              after: [("path", stored.path), ("checksums", stored.checksums.keys.sorted().joined(separator: ","))])
            try WebhookEvents(db: env.db, clock: env.clock).emit(userID: userID, type: .uploadCompleted,
                                                                 data: try WebhookPayloads.file(db: env.db, id: id) ?? [:])
            if let portal = try env.db.scalar("SELECT name FROM portals WHERE id = $1", [portalID], as: String.self) {
                let client = (try row.get("client_name", as: String?.self)).map { " from \($0)" } ?? ""
                try UploadNotifications(db: env.db, clock: env.clock).delivered(
                    userID: userID, portalID: portalID, subject: "New upload to \(portal): \(name)",
                    line: "\(name) (\(ByteSize(bytes: try row.get("size_bytes", as: Int64.self))))\(client) arrived through your portal “\(portal)”.",
                    details: "It is stored at \(stored.path).")
            }
        }
    }

    private func failedAttempt(_ id: Int64, row: Row, error: StorageProviderError) throws -> Outcome {
        let now = env.clock.now()
        let attempts = (try row.get("delivery_attempts", as: Int.self)) + 1
        let until: Int64 = try row.get("deliver_until", as: Int64?.self) ?? now
        let keepSession = !error.sessionLost
        if error.transient && now < until {
            try env.db.write {
                try lease.release(id, by: holder)
                try env.db.execute("""
                    UPDATE file_uploads SET delivery_attempts = $1, next_attempt_at = $2, failure_reason = $3,
                           provider_session = CASE WHEN $4 = 1 THEN provider_session END, updated_at = $5 WHERE id = $6
                    """, [attempts, now + Self.backoff(afterAttempt: attempts), error.message, keepSession ? 1 : 0, now, id])
            }
            Self.log.warning("delivery attempt failed", metadata: ["upload_id": "\(id)", "attempt": "\(attempts)", "reason": "\(error.message)",
                                                                "next_attempt_in_s": "\(Self.backoff(afterAttempt: attempts))"])
            return .retrying(error.message)
        }
        Self.log.error("delivery failed for good; the owner is told", metadata: ["upload_id": "\(id)", "attempts": "\(attempts)",
                                                                                  "reason": "\(error.message)"])
        let name: String = try row.get("file_name")
        guard case .to(let failed) = try FileUploadLifecycle.next(.delivering, .gaveUp) else { return .failed(error.message) }
        try env.db.write {
            try lease.release(id, by: holder)
            try env.db.execute("UPDATE file_uploads SET status = $5, delivery_attempts = $1, failure_reason = $2, updated_at = $3 WHERE id = $4",
                               [attempts, error.message, now, id, failed.rawValue])
            try AuditLog(db: env.db, clock: env.clock).record(AuditLog.Actor(userID: nil, remoteAddress: ""), action: "upload.delivery_failed",
                                                              entityType: "file_upload", entityID: String(id), after: [("reason", error.message)])
            try WebhookEvents(db: env.db, clock: env.clock).emit(
                userID: try row.get("user_id", as: Int64.self), type: .deliveryFailed,
                data: (try WebhookPayloads.file(db: env.db, id: id) ?? [:]).merging(["failure_reason": error.message]) { $1 })
            if let owner = try env.db.scalar("SELECT email FROM users WHERE id = $1", [try row.get("user_id", as: Int64.self)], as: String.self) {
                try MailOutbox(db: env.db, clock: env.clock).enqueue(
                    to: owner, subject: "A file could not be delivered: \(name)",
                    body: "\(name) arrived, but could not be stored in your storage: \(error.message)\nIntake keeps it; retry the delivery from your files page once the storage works again.")
            }
        }
        return .failed(error.message)
    }

    /// Undoes a file that was never delivered: its row, its usage and its spool go (the request
    /// that brought it is told, so nothing is lost).
    func rollBack(_ id: Int64, reason: String, remoteAddress: String) throws {
        try FileStore(db: env.db, clock: env.clock).removeRecord(id, actor: AuditLog.Actor(userID: nil, remoteAddress: remoteAddress),
                                                                 action: "upload.refused", after: [("reason", reason)])
    }


    /// Puts a failed file back in line (the owner's "retry delivery").
    public func retry(_ id: Int64, hours: Int64 = 24) throws -> Bool {
        let now = env.clock.now()
        guard case .to(let next) = try FileUploadLifecycle.next(.failed, .ownerRetries) else { return false }
        return try env.db.execute("""
            UPDATE file_uploads SET status = $4, next_attempt_at = $1, deliver_until = $2, delivery_attempts = 0, updated_at = $1
            WHERE id = $3 AND status = $5 AND spool_path IS NOT NULL
            """, [now, now + hours * 3600, id, next.rawValue, FileUploadStatus.failed.rawValue]) == 1
    }

    /// Attempts every delivery that is due and not held by a live process; returns how many ran.
    @discardableResult
    public func runDue(limit: Int = 20) throws -> Int {
        let now = env.clock.now()
        let lease = self.lease
        let ids = try env.db.query("""
            SELECT id, lease_holder, lease_expires FROM file_uploads
            WHERE status = \(FileUploadStatus.delivering.sql) AND coalesce(next_attempt_at, 0) <= $1 ORDER BY coalesce(next_attempt_at, 0), id LIMIT $2
            """, [now, limit]).filter { row in
                !lease.isHeld(holder: try row.get("lease_holder"), expiresAt: try row.get("lease_expires"), now: now)
            }.map { try $0.get("id", as: Int64.self) }
        var ran = 0
        for id in ids where try attempt(id) != .busy { ran += 1 }
        return ran
    }
}
