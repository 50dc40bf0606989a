import Database

/// The seed's `migrate-storage-accounts`: portals and stored files from before the binding (no
/// storage account named) get one by the seed's upload rules, each with an audit entry. A portal
/// takes the owner's account the rules choose (rule 2 or 3: an active account, lowest id first);
/// a file takes its portal's account — where the upload rules sent it — or, when the portal has
/// none, the one the rules choose. A binding is for good (the schema refuses to change it), so a
/// file whose provider id shows which kind of storage holds it (`providerKind(ofFileID:)`) is
/// bound only to an account of that kind: its portal's if that is one, else the owner's only one;
/// when none or several could hold it, it is left and reported, as is what no rule can bind (no
/// active account). Idempotent: a second run finds nothing to do.
public struct LegacyBindings {
    let db: Database
    let clock: EpochClock

    public init(db: Database, clock: EpochClock) {
        self.db = db
        self.clock = clock
    }

    public struct Binding: Codable, Sendable, Equatable {
        /// `portal` or `file`.
        public let kind: String
        public let id: Int64
        public let ownerEmail: String
        /// The account bound to, or nil when none can be.
        public let accountID: Int64?
        /// Which rule chose it, or why nothing could be chosen.
        public let how: String
    }

    public struct Report: Codable, Sendable, Equatable {
        public var bound: [Binding] = []
        public var unbound: [Binding] = []
    }

    /// The kind of storage a provider file id belongs to, by its form: Dropbox's ids are `id:…`,
    /// a local disk's are paths under `Intake/`, Google Drive's are neither; nil without an id.
    static func providerKind(ofFileID id: String?) -> StorageProviderKind? {
        guard let id, !id.isEmpty else { return nil }
        if id.hasPrefix("id:") { return .dropbox }
        if id.contains("/") { return .local }
        return .googleDrive
    }

    /// Files are bound in transactions of this many, so a large migration never holds the
    /// writers' lock for long.
    static let batch = 500

    /// What a run would bind (`apply` false) or what it bound.
    public func run(apply: Bool, by actor: AuditLog.Actor) throws -> Report {
        var report = Report()
        let audit = AuditLog(db: db, clock: clock)
        var accountsByUser: [Int64: [StorageRules.Account]] = [:]
        func accounts(_ userID: Int64) throws -> [StorageRules.Account] {
            if let known = accountsByUser[userID] { return known }
            let found = try db.query("SELECT id, provider, status FROM storage_accounts WHERE user_id = $1 ORDER BY id", [userID]).compactMap { row -> StorageRules.Account? in
                guard let provider = StorageProviderKind(rawValue: try row.get("provider")),
                      let status = StorageAccountStatus(rawValue: try row.get("status")) else { return nil }
                return StorageRules.Account(id: try row.get("id"), provider: provider, status: status)
            }
            accountsByUser[userID] = found
            return found
        }
        func decide(_ userID: Int64) throws -> (Int64?, String) {
            switch StorageRules.uploadDecision(portalAccountID: nil, portalProvider: nil, accounts: try accounts(userID)) {
            case .use(let id, let rule): return (id, "rule \(rule): the owner's active account")
            case .refuse, .failover: return (nil, "the owner has no active storage account; connect or reactivate one, then run again")
            }
        }

        // Portals first, so their files follow them.
        var portalAccount: [Int64: Int64] = [:]
        let portals = try db.query("""
            SELECT p.id, p.user_id, u.email FROM portals p JOIN users u ON u.id = p.user_id WHERE p.storage_account_id IS NULL ORDER BY p.id
            """)
        for row in portals {
            let id: Int64 = try row.get("id"), userID: Int64 = try row.get("user_id")
            let (accountID, how) = try decide(userID)
            let binding = Binding(kind: "portal", id: id, ownerEmail: try row.get("email"), accountID: accountID, how: how)
            guard let accountID else { report.unbound.append(binding); continue }
            portalAccount[id] = accountID
            report.bound.append(binding)
            if apply {
                try db.write {
                    guard try db.execute("UPDATE portals SET storage_account_id = $1, updated_at = $2 WHERE id = $3 AND storage_account_id IS NULL",
                                         [accountID, clock.now(), id]) == 1 else { return }
                    try audit.record(actor, action: "portal.storage_bound", entityType: "portal", entityID: String(id),
                                     before: [("storage_account_id", nil)], after: [("storage_account_id", String(accountID)), ("rule", how)])
                }
            }
        }

        var after: Int64 = 0
        while true {
            let rows = try db.query("""
                SELECT f.id, f.user_id, f.portal_id, f.provider_file_id, p.storage_account_id AS portal_account, u.email FROM file_uploads f
                JOIN portals p ON p.id = f.portal_id JOIN users u ON u.id = f.user_id
                WHERE f.storage_account_id IS NULL AND f.id > $1 ORDER BY f.id LIMIT \(Self.batch)
                """, [after])
            guard let last = rows.last else { break }
            after = try last.get("id")
            var bindings: [Binding] = []
            for row in rows {
                let portalID: Int64 = try row.get("portal_id"), userID: Int64 = try row.get("user_id")
                let portalBound = try row.get("portal_account", as: Int64?.self) ?? portalAccount[portalID]
                let (accountID, how): (Int64?, String)
                if let kind = Self.providerKind(ofFileID: try row.get("provider_file_id")) {
                    let candidates = try accounts(userID).filter { $0.provider == kind }
                    if let portalBound, candidates.contains(where: { $0.id == portalBound }) {
                        (accountID, how) = (portalBound, "rule 1: its portal's account, of the kind its id shows (\(kind.displayName))")
                    } else if candidates.count == 1 {
                        (accountID, how) = (candidates[0].id, "the owner's only \(kind.displayName) account, the kind its id shows")
                    } else {
                        (accountID, how) = (nil, candidates.isEmpty
                            ? "its id is a \(kind.displayName) file's, and the owner has no \(kind.displayName) storage account"
                            : "its id is a \(kind.displayName) file's, and the owner has \(candidates.count) such accounts; which holds it cannot be told")
                    }
                } else if let portalBound {
                    (accountID, how) = (portalBound, "rule 1: its portal's account")
                } else {
                    (accountID, how) = try decide(userID)
                }
                let binding = Binding(kind: "file", id: try row.get("id"), ownerEmail: try row.get("email"), accountID: accountID, how: how)
                if accountID == nil { report.unbound.append(binding) } else { bindings.append(binding) }
            }
            report.bound += bindings
            guard apply, !bindings.isEmpty else { continue }
            try db.write {
                for binding in bindings {
                    guard try db.execute("UPDATE file_uploads SET storage_account_id = $1, updated_at = $2 WHERE id = $3 AND storage_account_id IS NULL",
                                         [binding.accountID, clock.now(), binding.id]) == 1 else { continue }
                    try audit.record(actor, action: "file.storage_bound", entityType: "file", entityID: String(binding.id),
                                     before: [("storage_account_id", nil)], after: [("storage_account_id", binding.accountID.map(String.init)), ("rule", binding.how)])
                }
            }
        }
        return report
    }
}
