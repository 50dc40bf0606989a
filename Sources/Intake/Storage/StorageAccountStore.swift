import Database
import Foundation

/// Storage providers.

/// A storage account row.
public struct StorageAccount: Sendable, Equatable {
    public let id: Int64
    public let userID: Int64
    public let provider: StorageProviderKind
    public let providerAccountID: String
    public var displayName: String
    public var email: String?
    public var status: StorageAccountStatus
    public var lastError: String?
    /// Delivered files in it, and their bytes (kept by the schema's triggers).
    public let uploadedFiles: Int64
    public let uploadedBytes: Int64

    init(row: Row) throws {
        id = try row.get("id")
        userID = try row.get("user_id")
        let p: String = try row.get("provider")
        guard let provider = StorageProviderKind(rawValue: p) else { throw DatabaseError(.decoding, "unknown provider \(p)") }
        self.provider = provider
        providerAccountID = try row.get("provider_account_id")
        displayName = try row.get("display_name")
        email = try row.get("email")
        let s: String = try row.get("status")
        guard let status = StorageAccountStatus(rawValue: s) else { throw DatabaseError(.decoding, "unknown status \(s)") }
        self.status = status
        lastError = try row.get("last_error")
        uploadedFiles = try row.get("uploaded_files")
        uploadedBytes = try row.get("uploaded_bytes")
    }
}

/// What a status change did to the account's portals.
public struct PortalManagementResult: Sendable, Equatable {
    public let from: StorageAccountStatus
    public let to: StorageAccountStatus
    public let deactivatedPortals: Int
    public let reactivatedPortals: Int
}

/// A status change as reported to the operator's log (the audit table records the same, with the
/// actor): which account, from and to which state, on what event and why. Reasons are Intake's
/// own words and providers' error codes, never a token.
public struct StorageAccountStatusChange: Sendable, Equatable {
    public let accountID: Int64
    public let provider: StorageProviderKind
    public let event: StorageAccountEvent
    public let reason: String?
    public let result: PortalManagementResult
}

/// Storage accounts, and the one place their status changes (`handleStatusChange`).
public struct StorageAccountStore {
    let db: Database
    let clock: EpochClock
    let onStatusChange: ((StorageAccountStatusChange) -> Void)?

    /// `onStatusChange` hears of every status change once it is written (the worker logs it).
    public init(db: Database, clock: EpochClock, onStatusChange: ((StorageAccountStatusChange) -> Void)? = nil) {
        self.db = db
        self.clock = clock
        self.onStatusChange = onStatusChange
    }

    public func find(id: Int64) throws -> StorageAccount? {
        try db.queryOne("SELECT * FROM storage_accounts WHERE id = $1", [id]).map(StorageAccount.init)
    }

    public func list(userID: Int64) throws -> [StorageAccount] {
        try db.query("SELECT * FROM storage_accounts WHERE user_id = $1 ORDER BY id", [userID]).map(StorageAccount.init)
    }

    /// The seed's `createOrGetStorageAccount`: the account for (user, provider account, provider),
    /// created if missing. An existing account's state is left as it is, unless `reconnected`: the
    /// owner has just been through the OAuth flow for it and its new tokens are stored, so a
    /// DISCONNECTED or ERROR account comes back (a paused one stays the owner's choice). Nothing
    /// else revives a disconnected account without asking the provider (issue 12 item 7).
    /// Safe under concurrent callers in different processes: the unique key decides, not a lock.
    public func createOrGet(userID: Int64, provider: StorageProviderKind, providerAccountID: String, email: String?,
                            displayName: String, reconnected: Bool = false,
                            by actor: AuditLog.Actor) throws -> (account: StorageAccount, created: Bool, reactivated: Bool) {
        try db.write {
            let now = clock.now()
            let inserted = try db.execute("""
                INSERT INTO storage_accounts (user_id, provider, provider_account_id, display_name, email, status, created_at, updated_at,
                                              health_next_check_at)
                VALUES ($1, $2, $3, $4, $5, 'ACTIVE', $6, $6, $7)
                ON CONFLICT (user_id, provider_account_id, provider) DO NOTHING
                """, [userID, provider.rawValue, providerAccountID, displayName, email, now,
                      StorageHealthChecks.firstCheck(entering: .active, provider: provider, now: now)]) == 1
            var account = try StorageAccount(row: try db.queryOne("""
                SELECT * FROM storage_accounts WHERE user_id = $1 AND provider_account_id = $2 AND provider = $3
                """, [userID, providerAccountID, provider.rawValue])!)
            if inserted {
                try AuditLog(db: db, clock: clock).record(actor, action: "storage_account.create", entityType: "storage_account",
                                                          entityID: String(account.id), after: [("provider", provider.rawValue), ("status", "ACTIVE")])
                return (account, true, false)
            }
            if reconnected && (account.status == .disconnected || account.status == .error) {
                _ = try handleStatusChange(accountID: account.id, event: .reconnected, reason: "reconnected", by: actor)
                account = try find(id: account.id)!
                return (account, false, true)
            }
            return (account, false, false)
        }
    }

    /// The seed's `handleStorageAccountStatusChange`, the only way a status changes: the
    /// transition is checked against the diagram; leaving ACTIVE switches off the account's
    /// active portals (marked as switched off automatically); returning to ACTIVE switches back
    /// on only those; the health checks' schedule starts afresh for the new state (and an
    /// incident closes on return to ACTIVE); and an audit entry is written — all in one
    /// transaction. Once written, the change is reported to `onStatusChange` (one log line).
    @discardableResult
    public func handleStatusChange(accountID: Int64, event: StorageAccountEvent, reason: String?,
                                   by actor: AuditLog.Actor) throws -> PortalManagementResult {
        let (result, change) = try db.write { () throws -> (PortalManagementResult, StorageAccountStatusChange?) in
            guard let account = try find(id: accountID) else { throw ValidationError("", "There is no such storage account.") }
            let next = try StorageAccountTransitions.next(account.status, event)
            let now = clock.now()
            let lastError: String? = next == .error || next == .disconnected ? reason : nil
            try db.execute("UPDATE storage_accounts SET status = $1, last_error = $2, updated_at = $3 WHERE id = $4",
                           [next.rawValue, lastError, now, accountID])
            var deactivated = 0, reactivated = 0
            let webhooks = WebhookEvents(db: db, clock: clock)
            // A portal with a backup stays on while its account fails (ERROR, DISCONNECTED): the
            // backup takes its uploads. Pausing the account (INACTIVE) switches every portal off.
            if account.status == .active && next != .active {
                let reason = PortalInactiveReason(accountStatus: next)?.rawValue
                let switchedOff = try db.query("""
                    UPDATE portals SET active = 0, auto_deactivated = 1, inactive_reason = $1, updated_at = $2
                    WHERE storage_account_id = $3 AND active = 1 AND (backup_storage_account_id IS NULL OR $4 = 0)
                    RETURNING id, slug, name
                    """, [reason, now, accountID, next.failsOver])
                deactivated = switchedOff.count
                for portal in switchedOff {
                    try webhooks.emit(userID: account.userID, type: .portalDeactivated,
                                      data: WebhookPayloads.portal(id: try portal.get("id"), slug: try portal.get("slug"), name: try portal.get("name"),
                                                                   active: false, automatic: true, reason: reason))
                }
            } else if account.status != .active && next == .active {
                let switchedOn = try db.query("""
                    UPDATE portals SET active = 1, auto_deactivated = 0, inactive_reason = NULL, updated_at = $1
                    WHERE storage_account_id = $2 AND auto_deactivated = 1
                    RETURNING id, slug, name
                    """, [now, accountID])
                reactivated = switchedOn.count
                for portal in switchedOn {
                    try webhooks.emit(userID: account.userID, type: .portalReactivated,
                                      data: WebhookPayloads.portal(id: try portal.get("id"), slug: try portal.get("slug"), name: try portal.get("name"),
                                                                   active: true, automatic: true, reason: nil))
                }
                // The incident is over: uploads return to the account, and the next one is told again.
                try db.execute("""
                    UPDATE portals SET failover_notified_at = NULL WHERE storage_account_id = $1 AND failover_notified_at IS NOT NULL
                    """, [accountID])
            }
            if account.status != next { try PortalFailover(db: db, clock: clock).tellOwner(account: account, status: next) }
            let result = PortalManagementResult(from: account.status, to: next, deactivatedPortals: deactivated, reactivatedPortals: reactivated)
            guard account.status != next else { return (result, nil) }
            // Entering ERROR counts as the first failure (the first retry a minute on); entering
            // ACTIVE closes an incident, so a later one is mailed again.
            try db.execute("""
                UPDATE storage_accounts SET health_failures = $1, health_next_check_at = $2,
                    health_mailed_status = CASE WHEN $3 = 'ACTIVE' THEN NULL ELSE health_mailed_status END
                WHERE id = $4
                """, [next == .error ? 1 : 0, StorageHealthChecks.firstCheck(entering: next, provider: account.provider, now: now), next.rawValue, accountID])
            try AuditLog(db: db, clock: clock).record(
                actor, action: "storage_account.status", entityType: "storage_account", entityID: String(accountID),
                before: [("status", account.status.rawValue)],
                after: [("status", next.rawValue), ("event", event.rawValue), ("reason", reason),
                        ("portals_deactivated", String(deactivated)), ("portals_reactivated", String(reactivated))])
            try webhooks.emit(userID: account.userID, type: .storageAccountStatusChanged, data: [
                "object": "storage_account", "id": accountID, "provider": account.provider.rawValue, "email": account.email.map { $0 as Any } ?? NSNull(),
                "name": account.displayName, "previous_status": account.status.rawValue, "status": next.rawValue, "event": event.rawValue,
                "reason": reason.map { $0 as Any } ?? NSNull(),
            ])
            return (result, StorageAccountStatusChange(accountID: accountID, provider: account.provider, event: event, reason: reason, result: result))
        }
        if let change { onStatusChange?(change) }
        return result
    }
}
