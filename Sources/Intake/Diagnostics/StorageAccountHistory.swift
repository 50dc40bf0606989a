import Database
import Foundation

/// Storage accounts as the admin's storage diagnostics list them: every account with its owner,
/// state and last error, newest first, with each one's recent state changes from the audit log.
public struct StorageAccountHistory {
    let db: Database
    let clock: EpochClock

    public init(db: Database, clock: EpochClock) {
        self.db = db
        self.clock = clock
    }

    public struct Listed: Sendable {
        public let account: StorageAccount
        public let ownerEmail: String
        public let lastAccessedAt: Int64?
        public let changes: [Change]
    }

    /// One state change, as `handleStatusChange` recorded it.
    public struct Change: Sendable, Equatable {
        public let at: Int64
        public let from: String
        public let to: String
        public let event: String
        public let reason: String?
        /// Who caused it: a person's e-mail, or the operator command or system that did.
        public let by: String
    }

    /// A page of accounts, newest first, optionally of one state or owner (e-mail prefix), after
    /// the account id `before`; `more` when another page follows.
    public func page(status: StorageAccountStatus?, owner: String?, before: Int64?, limit: Int, changesEach: Int = 5) throws -> (accounts: [Listed], more: Bool) {
        var conditions: [String] = []
        var args: [any DatabaseValueConvertible] = []
        if let status { args.append(status.rawValue); conditions.append("s.status = $\(args.count)") }
        if let owner, !owner.isEmpty {
            conditions.append("s.user_id IN (SELECT id FROM users WHERE \(PrefixSearch.condition(["email_normalized"], startWith: owner.lowercased(), db.dialect, &args)))")
        }
        if let before { args.append(before); conditions.append("s.id < $\(args.count)") }
        args.append(limit + 1)
        let rows = try db.query("""
            SELECT s.*, u.email AS owner_email FROM storage_accounts s JOIN users u ON u.id = s.user_id
            \(conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND "))
            ORDER BY s.id DESC LIMIT $\(args.count)
            """, args)
        var listed = try rows.prefix(limit).map { row in
            let account = try StorageAccount(row: row)
            return Listed(account: account, ownerEmail: try row.get("owner_email"), lastAccessedAt: try row.get("last_accessed_at"),
                          changes: try changes(accountID: account.id, limit: changesEach))
        }
        if listed.isEmpty && rows.count > limit { listed = [] }
        return (listed, rows.count > limit)
    }

    /// An account's latest state changes, newest first.
    public func changes(accountID: Int64, limit: Int) throws -> [Change] {
        try db.query("""
            SELECT a.created_at, a.before_json, a.after_json, a.remote_address, u.email FROM audit_log a LEFT JOIN users u ON u.id = a.actor_id
            WHERE a.entity_type = 'storage_account' AND a.entity_id = $1 AND a.action = 'storage_account.status'
            ORDER BY a.id DESC LIMIT $2
            """, [String(accountID), limit]).map { row in
            let before = Self.fields(try row.get("before_json")), after = Self.fields(try row.get("after_json"))
            let address: String = try row.get("remote_address")
            return Change(at: try row.get("created_at"), from: before["status"] ?? "?", to: after["status"] ?? "?", event: after["event"] ?? "?",
                          reason: after["reason"], by: try row.get("email") ?? (address.isEmpty ? "Intake" : address))
        }
    }

    /// The string fields of an audit entry's flat JSON object.
    static func fields(_ json: String?) -> [String: String] {
        Dictionary(AuditLog.values(json).compactMap { key, value in value.map { (key, $0) } }, uniquingKeysWith: { a, _ in a })
    }
}
