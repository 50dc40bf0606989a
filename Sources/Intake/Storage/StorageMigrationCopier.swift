import Database
import Foundation
import Integrations
import Logging
import Spool

/// The copying of storage migrations, by every worker's migration thread: each file is taken by
/// a lease (so two workers, or two hosts, never copy one file at once, and a dead worker's file
/// is taken over at once on its host), then
///
/// 1. streamed from the account it is in into a spool file under `migrations/`, hashed on the
///    way; a copy whose SHA-256 is not the one recorded when the file arrived is never used;
/// 2. stored in the destination account, in the same folders under the same name, and the
///    destination's checksum compared with the recorded SHA-256 (`Deliveries.mismatch`);
/// 3. only then rebound, in one transaction: the item marked `verified` (which the database's
///    binding trigger asks for), the file's account and provider id changed, the item `moved`,
///    the counts moved, an audit entry written;
/// 4. its old copy deleted, unless the owner keeps old copies (a refusal is reported, not fatal).
///
/// Nothing is held in memory beyond one chunk. A crash leaves the item `pending` with its lease:
/// the next taker deletes a destination copy that was made but not bound and starts that file
/// again; files already moved stay moved. Transient failures retry with backoff; a checksum that
/// does not match is retried (the corruption may be the network's) and then reported as failed.
public struct StorageMigrationCopier {
    let env: UploadEnvironment
    let holder: LeaseHolder
    /// How long a file's lease lasts without renewal (renewed every `renewEvery` bytes copied).
    public var leaseSeconds: Int64 = 600
    static let renewEvery: Int64 = 64 << 20
    /// Attempts before a file is reported as failed: provider failures, and checksum mismatches.
    static let maxAttempts = 10
    static let maxMismatches = 3

    public init(env: UploadEnvironment) {
        self.env = env
        holder = LeaseHolder(of: env.liveness)
    }

    static let leaseStorage = Lease.Storage(table: "storage_migration_items", key: "id", holder: "lease_holder", expires: "lease_expires", ownRow: false)
    var lease: Lease { Lease(db: env.db, clock: env.clock, liveness: env.liveness, storage: Self.leaseStorage) }
    static let log = Logger(label: "intake.migrations")

    /// The pause before attempt `n + 1`: 2 s, doubling, at most ten minutes.
    static func backoff(afterAttempt n: Int64) -> Int64 { min(600, 2 << min(n - 1, 20)) }

    public enum Outcome: Equatable, Sendable {
        case moved
        case retrying(String)
        case failed(String)
        /// Someone else holds it, or it is no longer due.
        case busy
    }

    /// Why one attempt at a file did not move it.
    struct Trouble: Error {
        let message: String
        let transient: Bool
        var mismatch = false
    }

    /// Copies every file that is due, of running migrations, not held by a live process; returns
    /// how many were attempted.
    @discardableResult
    public func runDue(limit: Int = 10) throws -> Int {
        let now = env.clock.now()
        let lease = self.lease
        let due = try env.db.query("""
            SELECT i.id, i.lease_holder, i.lease_expires FROM storage_migration_items i JOIN storage_migrations m ON m.id = i.migration_id
            WHERE i.status = 'pending' AND i.next_attempt_at <= $1 AND m.status = 'running' ORDER BY i.next_attempt_at, i.id LIMIT $2
            """, [now, limit]).filter { row in
                !lease.isHeld(holder: try row.get("lease_holder"), expiresAt: try row.get("lease_expires"), now: now)
            }.map { try $0.get("id", as: Int64.self) }
        var ran = 0
        for id in due where try attempt(id) != .busy { ran += 1 }
        return ran
    }

    /// Takes the lease of a pending item of a running migration, unless a live holder has it.
    func claim(_ id: Int64) throws -> Bool {
        try env.db.write {
            guard try env.db.scalar("""
                SELECT count(*) FROM storage_migration_items i JOIN storage_migrations m ON m.id = i.migration_id
                WHERE i.id = $1 AND i.status = 'pending' AND m.status = 'running'
                """, [id], as: Int.self) == 1 else { return false }
            return try lease.acquire(id, for: holder, seconds: leaseSeconds)
        }
    }

    struct LostLease: Error {}

    /// One attempt at item `id`.
    @discardableResult
    public func attempt(_ id: Int64) throws -> Outcome {
        guard try claim(id) else { return .busy }
        guard let item = try env.db.queryOne("""
            SELECT i.*, m.destination_storage_account_id, m.keep_source, m.user_id FROM storage_migration_items i
            JOIN storage_migrations m ON m.id = i.migration_id WHERE i.id = $1
            """, [id]) else { return .busy }
        let migrationID: Int64 = try item.get("migration_id")
        let fileID: Int64 = try item.get("file_upload_id")
        let sourceAccountID: Int64 = try item.get("source_storage_account_id")
        let destinationID: Int64 = try item.get("destination_storage_account_id")
        let sourceFileID: String = try item.get("source_file_id")
        let accounts = StorageAccountStore(db: env.db, clock: env.clock)
        do {
            guard let file = try env.db.queryOne("SELECT * FROM file_uploads WHERE id = $1", [fileID]),
                  try file.get("status", as: String.self) == FileUploadStatus.uploaded.rawValue,
                  try file.get("storage_account_id", as: Int64?.self) == sourceAccountID,
                  try file.get("provider_file_id", as: String?.self) == sourceFileID else {
                throw Trouble(message: "the file changed while it waited (deleted, or moved another way)", transient: false)
            }
            guard let source = try accounts.find(id: sourceAccountID), let destination = try accounts.find(id: destinationID) else {
                throw Trouble(message: "its storage account is gone", transient: false)
            }
            guard source.status.canAccessFiles else {
                throw Trouble(message: "\(source.displayName) is \(source.status.inWords): its files cannot be read", transient: true)
            }
            guard destination.status == .active else {
                throw Trouble(message: "\(destination.displayName) is \(destination.status.inWords): it takes no files now", transient: true)
            }
            let from = try env.provider(source), to = try env.provider(destination)
            // A copy made by an attempt that did not finish is not bound to anything: remove it.
            if let leftover = try item.get("destination_file_id", as: String?.self) {
                try to.delete(fileID: leftover)
                try env.db.execute("UPDATE storage_migration_items SET destination_file_id = NULL, destination_path = NULL WHERE id = $1", [id])
            }
            let size: Int64 = try file.get("size_bytes")
            let sha256: String = try file.get("sha256", as: String?.self) ?? ""
            let spool = try copyOut(id, from: from, fileID: sourceFileID, size: size, sha256: sha256, source: source)
            defer { Spool.remove(spool) }
            let folder = (try file.get("target_folder", as: String?.self)).flatMap { try? JSONDecoder().decode([String].self, from: Data($0.utf8)) } ?? []
            let stored = try to.store(spoolPath: spool, length: size, fileName: try file.get("file_name"),
                                      contentType: try file.get("content_type", as: String?.self) ?? "application/octet-stream", folder: folder)
            try env.db.write {
                guard try lease.renew(id, for: holder, seconds: leaseSeconds) else { throw LostLease() }
                try env.db.execute("UPDATE storage_migration_items SET destination_file_id = $1, destination_path = $2 WHERE id = $3",
                                   [stored.fileID, stored.path, id])
            }
            if let mismatch = try Deliveries.mismatch(stored, spool: spool, sha256: sha256) {
                try? to.delete(fileID: stored.fileID)
                try env.db.execute("UPDATE storage_migration_items SET destination_file_id = NULL, destination_path = NULL WHERE id = $1", [id])
                throw Trouble(message: "the copy in \(destination.displayName) does not match the file (\(mismatch)); it was removed", transient: true, mismatch: true)
            }
            guard try rebind(id, migrationID: migrationID, fileID: fileID, item: item, stored: stored, size: size, from: source, to: destination) else {
                try? to.delete(fileID: stored.fileID)
                throw Trouble(message: "the file changed while it was copied (deleted, or moved another way); the copy was removed", transient: false)
            }
            if try item.get("keep_source", as: Int64.self) == 0 {
                do {
                    try from.delete(fileID: sourceFileID)
                } catch let error as StorageProviderError {
                    try env.db.execute("UPDATE storage_migration_items SET source_left = $1 WHERE id = $2",
                                       ["the old copy in \(source.displayName) could not be deleted: \(error.message)", id])
                }
            }
            try finishIfDone(migrationID)
            return .moved
        } catch let error as StorageProviderError {
            return try failed(id, migrationID: migrationID, Trouble(message: error.message, transient: error.transient), item: item)
        } catch let trouble as Trouble {
            return try failed(id, migrationID: migrationID, trouble, item: item)
        } catch is LostLease {
            return .busy
        }
    }

    /// Streams the file out of its account into a new spool file, hashing it; the spool's path,
    /// only when the bytes are the ones recorded.
    private func copyOut(_ id: Int64, from provider: StorageProvider, fileID: String, size: Int64, sha256: String,
                         source: StorageAccount) throws -> String {
        let writer: SpoolWriter
        do {
            writer = try SpoolWriter(directory: env.spool.path(.migrations), limit: size)
        } catch let error as SpoolError {
            throw Trouble(message: "the spool cannot take the copy (errno \(error.code))", transient: true)
        }
        var renewedAt: Int64 = 0
        do {
            try provider.download(fileID: fileID, length: size) { chunk in
                try writer.write(chunk)
                if writer.size - renewedAt >= Self.renewEvery {
                    renewedAt = writer.size
                    guard try lease.renew(id, for: holder, seconds: leaseSeconds) else { throw LostLease() }
                }
            }
        } catch is SpoolWriter.TooLarge {
            writer.abandon()
            throw Trouble(message: "\(source.displayName) sent more bytes than the file has", transient: true, mismatch: true)
        } catch let error as SpoolError {
            writer.abandon()
            throw Trouble(message: "the spool cannot take the copy (errno \(error.code))", transient: true)
        } catch {
            writer.abandon()
            throw error
        }
        let digest: String
        do { digest = try writer.finish() } catch let error as SpoolError {
            writer.abandon()
            throw Trouble(message: "the spool cannot take the copy (errno \(error.code))", transient: true)
        }
        guard writer.size == size, digest == sha256 else {
            Spool.remove(writer.path)
            throw Trouble(message: "the bytes read from \(source.displayName) do not match the file (SHA-256 \(digest), \(writer.size) bytes; recorded \(sha256), \(size) bytes)",
                          transient: true, mismatch: true)
        }
        return writer.path
    }

    /// The one sanctioned rebind: in one transaction, the item verified, the file bound to the
    /// destination copy, the item moved, the counts moved and the rebind audited. False when the
    /// file is no longer the one that was copied (deleted or changed meanwhile).
    private func rebind(_ id: Int64, migrationID: Int64, fileID: Int64, item: Row, stored: StoredFile, size: Int64,
                        from source: StorageAccount, to destination: StorageAccount) throws -> Bool {
        let now = env.clock.now()
        let sourceFileID: String = try item.get("source_file_id")
        return try env.db.write {
            guard try lease.renew(id, for: holder, seconds: leaseSeconds) else { throw LostLease() }
            guard let path = try env.db.scalar("""
                SELECT provider_path FROM file_uploads WHERE id = $1 AND storage_account_id = $2 AND provider_file_id = $3 AND status = $4
                """, [fileID, source.id, sourceFileID, FileUploadStatus.uploaded.rawValue], as: String?.self) else { return false }
            try env.db.execute("UPDATE storage_migration_items SET status = 'verified', updated_at = $1 WHERE id = $2", [now, id])
            try env.db.execute("""
                UPDATE file_uploads SET storage_account_id = $1, provider_file_id = $2, provider_path = $3, missing_since = NULL, updated_at = $4
                WHERE id = $5
                """, [destination.id, stored.fileID, stored.path, now, fileID])
            try env.db.execute("""
                UPDATE storage_migration_items SET status = 'moved', error = NULL, lease_holder = NULL, updated_at = $1 WHERE id = $2
                """, [now, id])
            try env.db.execute("""
                UPDATE storage_migrations SET moved_files = moved_files + 1, moved_bytes = moved_bytes + $1, updated_at = $2 WHERE id = $3
                """, [size, now, migrationID])
            try AuditLog(db: env.db, clock: env.clock).record(
                AuditLog.Actor(userID: nil, remoteAddress: ""), action: "file.migrated", entityType: "file_upload", entityID: String(fileID),
                before: [("storage_account_id", String(source.id)), ("provider_file_id", sourceFileID), ("provider_path", path)],
                after: [("storage_account_id", String(destination.id)), ("provider_file_id", stored.fileID), ("provider_path", stored.path),
                        ("storage_migration_id", String(migrationID)), ("checksums", stored.checksums.keys.sorted().joined(separator: ","))])
            return true
        }
    }

    /// An attempt that did not move the file: again later while it may still work, else failed.
    private func failed(_ id: Int64, migrationID: Int64, _ trouble: Trouble, item: Row) throws -> Outcome {
        let now = env.clock.now()
        let attempts = (try item.get("attempts", as: Int64.self)) + 1
        let limit = trouble.mismatch ? Self.maxMismatches : Self.maxAttempts
        if trouble.transient && attempts < limit {
            try env.db.execute("""
                UPDATE storage_migration_items SET attempts = $1, next_attempt_at = $2, error = $3, lease_holder = NULL, updated_at = $4
                WHERE id = $5 AND status = 'pending'
                """, [attempts, now + Self.backoff(afterAttempt: attempts), trouble.message, now, id])
            Self.log.warning("migration attempt failed", metadata: ["item": "\(id)", "attempt": "\(attempts)", "reason": "\(trouble.message)"])
            return .retrying(trouble.message)
        }
        Self.log.error("file not migrated", metadata: ["item": "\(id)", "attempts": "\(attempts)", "reason": "\(trouble.message)"])
        try env.db.write {
            guard try env.db.execute("""
                UPDATE storage_migration_items SET status = 'failed', attempts = $1, error = $2, lease_holder = NULL, updated_at = $3
                WHERE id = $4 AND status = 'pending'
                """, [attempts, trouble.message, now, id]) == 1 else { return }
            try env.db.execute("UPDATE storage_migrations SET failed_files = failed_files + 1, updated_at = $1 WHERE id = $2", [now, migrationID])
            try AuditLog(db: env.db, clock: env.clock).record(AuditLog.Actor(userID: nil, remoteAddress: ""), action: "file.migration_failed",
                                                              entityType: "file_upload", entityID: String(try item.get("file_upload_id", as: Int64.self)),
                                                              after: [("storage_migration_id", String(migrationID)), ("reason", trouble.message)])
        }
        try finishIfDone(migrationID)
        return .failed(trouble.message)
    }

    /// A migration with no file left to try is finished, and its owner mailed the outcome once.
    func finishIfDone(_ migrationID: Int64) throws {
        let now = env.clock.now()
        try env.db.write {
            // One index probe, not a count: this runs after every file of a migration.
            guard try env.db.scalar("""
                SELECT id FROM storage_migration_items WHERE migration_id = $1 AND status IN ('pending', 'verified') LIMIT 1
                """, [migrationID], as: Int64.self) == nil,
                  try env.db.execute("""
                    UPDATE storage_migrations SET status = 'finished', finished_at = $1, updated_at = $1 WHERE id = $2 AND status <> 'finished'
                    """, [now, migrationID]) == 1,
                  let row = try env.db.queryOne("""
                    SELECT m.*, u.email, a.display_name FROM storage_migrations m JOIN users u ON u.id = m.user_id
                    JOIN storage_accounts a ON a.id = m.destination_storage_account_id WHERE m.id = $1
                    """, [migrationID]) else { return }
            let migration = try StorageMigration(row: row)
            let destination: String = try row.get("display_name")
            let failed = migration.failedFiles > 0
                ? "\n\(Counted.text(migration.failedFiles, "file")) could not be moved and stay where they were; the migration's page says why and can try them again."
                : ""
            try MailOutbox(db: env.db, clock: env.clock).enqueue(
                to: try row.get("email"),
                subject: failed.isEmpty ? "Your files were moved to \(destination)" : "Moving files to \(destination): \(migration.failedFiles) not moved",
                body: "\(Counted.text(migration.movedFiles, "file")) (\(ByteSize(bytes: migration.movedBytes))) of \(migration.scopeName) were copied to \(destination), "
                    + "checked against their recorded SHA-256 and moved there.\(failed)")
        }
    }

    /// Removes copies left in the spool by a worker that died while copying (older than a lease).
    @discardableResult
    public func removeStaleSpools() -> Int {
        let cutoff = env.clock.now() - leaseSeconds
        var removed = 0
        for file in env.spool.entries(in: .migrations) where file.modifiedAt < cutoff {
            if Spool.remove(file.path) { removed += 1 }
        }
        return removed
    }
}
