import Database

/// Automatic failover's one message: when a storage account starts failing (ERROR or
/// DISCONNECTED), its owner is told once which portals now send new uploads to their backup
/// account. `portals.failover_notified_at` marks the portals already told of; the mark is cleared
/// when the account is ACTIVE again (`StorageAccountStore.handleStatusChange`), so the next
/// incident is told again. Call inside the transaction of the status change.
struct PortalFailover {
    let db: Database
    let clock: EpochClock

    /// A portal that fails over: its name and address, and the backup taking its uploads.
    struct Redirected: Equatable {
        let name: String
        let slug: String
        let backup: String
    }

    /// Marks the account's portals with a backup that were not told of yet and mails the owner
    /// one list of them; returns how many portals the mail names (0: no mail).
    @discardableResult
    func tellOwner(account: StorageAccount, status: StorageAccountStatus) throws -> Int {
        guard status.failsOver else { return 0 }
        let rows = try db.query("""
            SELECT p.id, p.name, p.slug, b.provider, b.display_name, b.email FROM portals p JOIN storage_accounts b ON b.id = p.backup_storage_account_id
            WHERE p.storage_account_id = $1 AND p.failover_notified_at IS NULL ORDER BY p.id
            """, [account.id])
        guard !rows.isEmpty else { return 0 }
        let redirected = try rows.map { row in
            let provider = StorageProviderKind(rawValue: try row.get("provider", as: String.self))?.displayName ?? "storage"
            let email: String? = try row.get("email")
            let displayName: String = try row.get("display_name")
            return Redirected(name: try row.get("name"), slug: try row.get("slug"), backup: "\(provider) (\(email ?? displayName))")
        }
        try db.execute("""
            UPDATE portals SET failover_notified_at = $1 WHERE storage_account_id = $2 AND failover_notified_at IS NULL
              AND backup_storage_account_id IS NOT NULL
            """, [clock.now(), account.id])
        guard let to = try db.scalar("SELECT email FROM users WHERE id = $1", [account.userID], as: String.self) else { return 0 }
        let mail = Self.mail(account: account, status: status, portals: redirected)
        try MailOutbox(db: db, clock: clock).enqueue(to: to, subject: mail.subject, body: mail.body)
        return redirected.count
    }

    /// The owner's message: what failed, where new files go now, and that nothing moves.
    static func mail(account: StorageAccount, status: StorageAccountStatus, portals: [Redirected]) -> (subject: String, body: String) {
        let name = account.provider.displayName
        let which = account.email.map { "\(name) storage (\($0))" } ?? "\(name) storage"
        let what = status == .disconnected ? "no longer gives Intake access" : "cannot be reached"
        let list = portals.map { "- \($0.name) (/p/\($0.slug)): new files go to \($0.backup)" }.joined(separator: "\n")
        let subject = portals.count == 1 ? "Your portal “\(portals[0].name)” now uses its backup storage"
            : "\(portals.count) of your portals now use their backup storage"
        let body = """
            Your \(which) \(what), so these portals send new files to their backup account until it works again:

            \(list)

            Your clients see no difference. Files already stored stay where they are, and files that arrive meanwhile stay in the backup account (you can move them later from the Storage page). When \(name) works again, new files go there again by themselves; you are told of the next incident again.
            """
        return (subject, body)
    }
}
