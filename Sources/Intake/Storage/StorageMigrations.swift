import Database

/// One move of an owner's files to another of their storage accounts, as its pages show it.
public struct StorageMigration: Sendable, Equatable {
    public enum Status: String, Sendable {
        case running, paused, finished
    }

    public let id: Int64
    public let userID: Int64
    /// The account whose files move (nil: a portal's files, from whichever accounts hold them).
    public let sourceAccountID: Int64?
    public let portalID: Int64?
    /// What moves, in words: "all files of Google Drive (a@example.com)", "the files of portal Tax".
    public let scopeName: String
    public let destinationAccountID: Int64
    public let keepSource: Bool
    public let status: Status
    public let totalFiles: Int64
    public let totalBytes: Int64
    public let movedFiles: Int64
    public let movedBytes: Int64
    public let failedFiles: Int64
    public let createdAt: Int64
    public let finishedAt: Int64?

    init(row: Row) throws {
        id = try row.get("id")
        userID = try row.get("user_id")
        sourceAccountID = try row.get("source_storage_account_id")
        portalID = try row.get("portal_id")
        scopeName = try row.get("scope_name")
        destinationAccountID = try row.get("destination_storage_account_id")
        keepSource = try row.get("keep_source", as: Int64.self) == 1
        status = Status(rawValue: try row.get("status")) ?? .paused
        totalFiles = try row.get("total_files")
        totalBytes = try row.get("total_bytes")
        movedFiles = try row.get("moved_files")
        movedBytes = try row.get("moved_bytes")
        failedFiles = try row.get("failed_files")
        createdAt = try row.get("created_at")
        finishedAt = try row.get("finished_at")
    }

    /// Files neither moved nor failed yet.
    public var remainingFiles: Int64 { totalFiles - movedFiles - failedFiles }
}

/// A file of a migration that could not be moved, with why.
public struct StorageMigrationFailure: Sendable, Equatable {
    public let fileID: Int64
    public let fileName: String
    public let sizeBytes: Int64
    public let reason: String
}

/// Owners' storage migrations: started, listed, paused, resumed, their failed files put back in
/// line — each only by its owner (another owner's id is "not found"), each audited. The copying
/// itself is `StorageMigrationCopier`'s; this is what the pages and the copier share.
///
/// A migration takes the owner's delivered files of one account (or of one portal, in any account
/// but the destination) that are readable now and in no other unfinished migration, one item
/// each; its counts move in the transaction of each item's outcome, so its page reads one row.
public struct StorageMigrations {
    let db: Database
    let clock: EpochClock

    public init(db: Database, clock: EpochClock) {
        self.db = db
        self.clock = clock
    }

    /// What the owner asked to move.
    public enum Scope: Sendable, Equatable {
        case account(Int64)
        case portal(Int64)
    }

    /// Why a migration cannot start, in words for the owner.
    public struct Refusal: Error, Equatable, CustomStringConvertible {
        public let message: String
        public var description: String { message }
    }

    /// Starts moving `scope`'s files to `destination`: the migration and one item per file, in one
    /// transaction. Refuses another owner's account or portal (as not found), a destination that
    /// is not ACTIVE or is the account itself, an account whose files cannot be read, and nothing
    /// to move. Files of accounts that cannot be read now, and files already in an unfinished
    /// migration, are left out (`leftOut` counts them).
    public func start(userID: Int64, scope: Scope, destination: Int64, keepSource: Bool,
                      by actor: AuditLog.Actor) throws -> Result<(migration: StorageMigration, leftOut: Int64), Refusal> {
        let accounts = StorageAccountStore(db: db, clock: clock)
        guard let target = try accounts.find(id: destination), target.userID == userID else {
            return .failure(Refusal(message: "Choose one of your storage accounts to move the files to."))
        }
        guard target.status == .active else {
            return .failure(Refusal(message: "\(target.displayName) is \(target.status.inWords): files can only move to storage that is connected and active."))
        }
        let scopeName: String
        let filter: String
        var arguments: [any DatabaseValueConvertible] = [userID, destination]
        switch scope {
        case .account(let id):
            guard let source = try accounts.find(id: id), source.userID == userID else {
                return .failure(Refusal(message: "There is no such storage account of yours."))
            }
            guard id != destination else { return .failure(Refusal(message: "Choose another account than the one the files are in.")) }
            guard source.status.canAccessFiles else {
                return .failure(Refusal(message: "\(source.displayName) is \(source.status.inWords): its files cannot be read until it is connected again."))
            }
            scopeName = "all files of \(source.displayName)"
            filter = "f.storage_account_id = $3"
            arguments.append(id)
        case .portal(let id):
            guard let portal = try PortalStore(db: db, clock: clock).find(id: id), portal.userID == userID else {
                return .failure(Refusal(message: "There is no such portal of yours."))
            }
            scopeName = "the files of portal \(portal.name)"
            filter = "f.portal_id = $3"
            arguments.append(id)
        }
        let readable = [StorageAccountStatus.active, .inactive].map { "'\($0.rawValue)'" }.joined(separator: ", ")
        let candidates = """
            FROM file_uploads f JOIN storage_accounts a ON a.id = f.storage_account_id
            WHERE f.user_id = $1 AND \(filter) AND f.status = \(FileUploadStatus.uploaded.sql) AND f.storage_account_id <> $2
              AND f.provider_file_id IS NOT NULL
            """
        let busy = """
            EXISTS (SELECT 1 FROM storage_migration_items i JOIN storage_migrations m ON m.id = i.migration_id
                    WHERE i.file_upload_id = f.id AND m.status <> 'finished' AND i.status IN ('pending', 'verified'))
            """
        let now = clock.now()
        return try db.write {
            let all = try db.scalar("SELECT count(*) \(candidates)", arguments, as: Int64.self) ?? 0
            guard let counted = try db.queryOne("""
                SELECT count(*) AS files, coalesce(sum(f.size_bytes), 0) AS bytes \(candidates) AND a.status IN (\(readable)) AND NOT \(busy)
                """, arguments) else { return .failure(Refusal(message: "Nothing to move.")) }
            let files: Int64 = try counted.get("files"), bytes: Int64 = try counted.get("bytes")
            guard files > 0 else {
                return .failure(Refusal(message: all == 0 ? "There are no stored files to move: \(scopeName) are already in \(target.displayName), or there are none."
                                                          : "None of these files can move now: their storage cannot be read, or they are being moved already."))
            }
            var source: Int64?, portal: Int64?
            switch scope {
            case .account(let id): source = id
            case .portal(let id): portal = id
            }
            guard let id = try db.scalar("""
                INSERT INTO storage_migrations (user_id, source_storage_account_id, portal_id, scope_name, destination_storage_account_id, keep_source,
                                                status, total_files, total_bytes, created_at, updated_at)
                VALUES ($1, $2, $3, $4, $5, $6, 'running', $7, $8, $9, $9) RETURNING id
                """, [userID, source, portal, scopeName, destination, keepSource ? 1 : 0, files, bytes, now], as: Int64.self) else {
                throw Refusal(message: "The migration could not be recorded.")
            }
            try db.execute("""
                INSERT INTO storage_migration_items (migration_id, file_upload_id, source_storage_account_id, source_file_id, size_bytes, status, updated_at)
                SELECT $4, f.id, f.storage_account_id, f.provider_file_id, f.size_bytes, 'pending', $5 \(candidates) AND a.status IN (\(readable)) AND NOT \(busy)
                ORDER BY f.id
                """, arguments + [id, now])
            try AuditLog(db: db, clock: clock).record(actor, action: "storage_migration.started", entityType: "storage_migration", entityID: String(id),
                                                      after: [("what", scopeName), ("destination_storage_account_id", String(destination)),
                                                              ("files", String(files)), ("bytes", String(bytes)), ("keep_source", keepSource ? "yes" : "no")])
            let migration = try find(id: id, userID: userID)!
            return .success((migration, all - files))
        }
    }

    /// The owner's migration `id` (nil for another owner's).
    public func find(id: Int64, userID: Int64) throws -> StorageMigration? {
        try db.queryOne("SELECT * FROM storage_migrations WHERE id = $1 AND user_id = $2", [id, userID]).map(StorageMigration.init)
    }

    /// The owner's latest migrations, newest first.
    public func list(userID: Int64, limit: Int = 10) throws -> [StorageMigration] {
        try db.query("SELECT * FROM storage_migrations WHERE user_id = $1 ORDER BY id DESC LIMIT $2", [userID, limit]).map(StorageMigration.init)
    }

    /// The files of migration `id` that could not be moved (the first `limit`), with why.
    public func failures(migrationID: Int64, limit: Int = 200) throws -> [StorageMigrationFailure] {
        try items(migrationID: migrationID, status: "failed", reason: "error", limit: limit)
    }

    /// Files moved but whose old copy the provider would not delete, with why (the first `limit`).
    public func oldCopiesLeft(migrationID: Int64, limit: Int = 200) throws -> [StorageMigrationFailure] {
        try items(migrationID: migrationID, status: "moved", reason: "source_left", limit: limit)
    }

    /// The items of one state that have a `reason` (a column of the item), oldest first.
    private func items(migrationID: Int64, status: String, reason: String, limit: Int) throws -> [StorageMigrationFailure] {
        try db.query("""
            SELECT f.id, f.file_name, i.size_bytes, i.\(reason) AS reason FROM storage_migration_items i JOIN file_uploads f ON f.id = i.file_upload_id
            WHERE i.migration_id = $1 AND i.status = $2 AND i.\(reason) IS NOT NULL ORDER BY i.id LIMIT $3
            """, [migrationID, status, limit]).map { row in
            StorageMigrationFailure(fileID: try row.get("id"), fileName: try row.get("file_name"), sizeBytes: try row.get("size_bytes"),
                                    reason: try row.get("reason"))
        }
    }

    /// Pauses (no further file is started; one being copied finishes) or resumes the owner's
    /// running or paused migration; false when it is another owner's, or finished.
    public func setPaused(id: Int64, userID: Int64, paused: Bool, by actor: AuditLog.Actor) throws -> Bool {
        try db.write {
            let changed = try db.execute("""
                UPDATE storage_migrations SET status = $1, updated_at = $2 WHERE id = $3 AND user_id = $4 AND status = $5
                """, [paused ? "paused" : "running", clock.now(), id, userID, paused ? "running" : "paused"]) == 1
            if changed {
                try AuditLog(db: db, clock: clock).record(actor, action: paused ? "storage_migration.paused" : "storage_migration.resumed",
                                                          entityType: "storage_migration", entityID: String(id))
            }
            return changed
        }
    }

    /// Puts the failed files of the owner's migration back in line (and the migration back to
    /// running); how many.
    public func retryFailed(id: Int64, userID: Int64, by actor: AuditLog.Actor) throws -> Int {
        let now = clock.now()
        return try db.write {
            guard try find(id: id, userID: userID) != nil else { return 0 }
            let again = try db.execute("""
                UPDATE storage_migration_items SET status = 'pending', attempts = 0, error = NULL, next_attempt_at = $1, updated_at = $1
                WHERE migration_id = $2 AND status = 'failed'
                """, [now, id])
            guard again > 0 else { return 0 }
            try db.execute("""
                UPDATE storage_migrations SET status = 'running', failed_files = failed_files - $1, finished_at = NULL, updated_at = $2 WHERE id = $3
                """, [again, now, id])
            try AuditLog(db: db, clock: clock).record(actor, action: "storage_migration.retried", entityType: "storage_migration", entityID: String(id),
                                                      after: [("files", String(again))])
            return again
        }
    }

    /// Provider ids in accounts `accountIDs` that belong to migrations, not to nobody: old copies
    /// kept by choice (or left when the provider refused to delete them), and copies made but not
    /// yet bound. Reconciliation does not call them orphans.
    public func copiesKept(accountIDs: [Int64]) throws -> Set<String> {
        guard !accountIDs.isEmpty else { return [] }
        let list = accountIDs.map(String.init).joined(separator: ", ")
        let kept = try db.query("""
            SELECT i.source_file_id AS id FROM storage_migration_items i JOIN storage_migrations m ON m.id = i.migration_id
            WHERE i.status = 'moved' AND i.source_storage_account_id IN (\(list)) AND (m.keep_source = 1 OR i.source_left IS NOT NULL)
            UNION ALL
            SELECT i.destination_file_id AS id FROM storage_migration_items i JOIN storage_migrations m ON m.id = i.migration_id
            WHERE i.status IN ('pending', 'failed') AND i.destination_file_id IS NOT NULL AND m.destination_storage_account_id IN (\(list))
            """)
        return Set(try kept.map { try $0.get("id", as: String.self) })
    }
}
