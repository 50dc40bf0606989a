import Database
import Sodium

/// Whether the portal form asks a client for a field.
public enum FieldMode: String, Sendable, CaseIterable {
    case required, optional, hidden
}

/// An upload portal.
public struct Portal: Sendable, Equatable {
    public let id: Int64
    public let userID: Int64
    public var name: String
    public var slug: String
    public var description: String
    public var storageAccountID: Int64?
    /// Another of the owner's accounts that takes new uploads while `storageAccountID` is in
    /// ERROR or DISCONNECTED (`StorageRules.uploadDecision`); nil: none.
    public var backupStorageAccountID: Int64?
    /// When the owner was told that this portal's uploads go to its backup (nil: no incident
    /// told, or the portal's own account is ACTIVE again).
    public var failoverNotifiedAt: Int64?
    public var folderName: String
    public var clientSubfolders: Bool
    public var hasPassword: Bool
    public var clientNameMode: FieldMode
    public var clientEmailMode: FieldMode
    public var messageField: Bool
    public var maxFileBytes: Int64?
    /// The free list of extensions the portal is narrowed to (beside `allowedFamilies`).
    public var allowedExtensions: Set<String>
    /// The families of types the portal is narrowed to; with no extensions either: any file.
    public var allowedFamilies: Set<FileTypes.Family>
    public var maxFiles: Int
    public var active: Bool
    /// The owner's accent colour for the portal page (`#rrggbb`); nil: the default.
    public var accentColor: String?
    /// The logo's text alternative, and when the logo was set (nil: no logo).
    public var logoAlt: String?
    public var logoUpdatedAt: Int64?
    public var inactiveReason: String?
    /// How the owner hears of this portal's files; nil: as the owner chose for all portals.
    public var notifications: NotificationMode?

    init(row: Row) throws {
        id = try row.get("id")
        userID = try row.get("user_id")
        name = try row.get("name")
        slug = try row.get("slug")
        description = try row.get("description")
        storageAccountID = try row.get("storage_account_id")
        backupStorageAccountID = try row.get("backup_storage_account_id")
        failoverNotifiedAt = try row.get("failover_notified_at")
        folderName = try row.get("folder_name")
        clientSubfolders = try row.get("client_subfolders")
        hasPassword = (try row.get("password_hash", as: String?.self)) != nil
        clientNameMode = FieldMode(rawValue: try row.get("client_name_mode")) ?? .required
        clientEmailMode = FieldMode(rawValue: try row.get("client_email_mode")) ?? .optional
        messageField = try row.get("message_field")
        maxFileBytes = try row.get("max_file_bytes")
        allowedExtensions = Set((try row.get("allowed_extensions", as: String.self)).split(separator: ",").map(String.init))
        allowedFamilies = Set((try row.get("allowed_families", as: String.self)).split(separator: ",").compactMap { FileTypes.Family(rawValue: String($0)) })
        accentColor = try row.get("accent_color")
        logoAlt = try row.get("logo_alt")
        logoUpdatedAt = try row.get("logo_updated_at")
        maxFiles = try row.get("max_files")
        active = try row.get("active")
        inactiveReason = try row.get("inactive_reason")
        notifications = (try row.get("upload_notifications", as: String?.self)).flatMap(NotificationMode.init)
    }

    /// What the portal takes: its families and extensions (neither: any file).
    public var accepted: FileTypes.Accepted { FileTypes.Accepted(families: allowedFamilies, extensions: allowedExtensions) }
}

/// What the portal form (or the API) carries.
public struct PortalInput: Sendable, Equatable {
    public var name: String
    public var slug: String
    public var description: String = ""
    public var storageAccountID: Int64?
    /// The backup account (nil: none).
    public var backupStorageAccountID: Int64?
    public var folderName: String = ""
    public var clientSubfolders = false
    /// nil: leave as it is; "": remove; otherwise the new password.
    public var password: String?
    public var clientNameMode: FieldMode = .required
    public var clientEmailMode: FieldMode = .optional
    public var messageField = true
    public var maxFileBytes: Int64?
    public var allowedExtensions: Set<String> = []
    public var allowedFamilies: Set<FileTypes.Family> = []
    public var maxFiles = 20
    /// `#rrggbb` or nil for the default (the raw text until validated).
    public var accentColor: String?
    public var active = true
    /// nil: the owner's choice.
    public var notifications: NotificationMode?

    public init(name: String, slug: String) {
        self.name = name
        self.slug = slug
    }
}

/// Rules for portal fields.
public enum PortalRules {
    /// Slugs that would shadow a route or confuse people.
    public static let reservedSlugs: Set<String> = [
        "admin", "api", "login", "logout", "dashboard", "account", "settings", "oauth", "healthz", "static", "css", "js", "img",
        "p", "new", "edit", "portal", "portals", "upload", "uploads", "files", "help", "support", "intake", "www",
    ]

    /// A slug: 3 to 60 lower-case letters, digits and single hyphens, not at either end, not reserved.
    public static func slug(_ raw: String) throws -> String {
        let slug = raw.trimmingSpaces()
        guard (3...60).contains(slug.count) else { throw ValidationError("slug", "Use 3 to 60 characters.") }
        guard slug.utf8.allSatisfy({ (97...122).contains($0) || (48...57).contains($0) || $0 == 45 }) else {
            throw ValidationError("slug", "Use lower-case letters, digits and hyphens only.")
        }
        guard !slug.hasPrefix("-"), !slug.hasSuffix("-"), !slug.contains("--") else {
            throw ValidationError("slug", "Hyphens go between letters or digits, one at a time.")
        }
        guard !reservedSlugs.contains(slug) else { throw ValidationError("slug", "“\(slug)” is reserved; choose another address.") }
        return slug
    }

    /// A portal's free list of extensions, normalised: each 1 to 16 lower-case letters and digits
    /// (a leading `.` or `*.` is dropped), at most 100 of them.
    public static func extensions(_ raw: Set<String>) throws -> Set<String> {
        var out = Set<String>()
        for text in raw.sorted() {
            var ext = text.trimmingSpaces().lowercased()
            if ext.hasPrefix("*") { ext.removeFirst() }
            if ext.hasPrefix(".") { ext.removeFirst() }
            guard !ext.isEmpty else { continue }
            if ext.contains(".") {
                throw ValidationError("allowed_types", "“\(text)”: give the last part only (for .tar.gz write gz).")
            }
            guard ext.count <= 16, ext.unicodeScalars.allSatisfy({ ("a"..."z").contains($0) || ("0"..."9").contains($0) }) else {
                throw ValidationError("allowed_types", "“\(text)” is not an extension: use letters and digits, like pdf or mp4, separated by commas.")
            }
            out.insert(ext)
        }
        guard out.count <= 100 else { throw ValidationError("allowed_types", "List at most 100 extensions (choose families for more).") }
        return out
    }

    /// The largest file a portal may accept when the owner has no plan.
    public static let defaultMaxFileBytes: Int64 = 2_000_000_000  // 2 GB, in the one unit system pages state
}

/// Portals in the database: create and edit (bound only to an ACTIVE account of the owner),
/// deactivate, delete (a portal with files is kept: deactivate it instead).
public struct PortalStore {
    let db: Database
    let clock: EpochClock

    public init(db: Database, clock: EpochClock) {
        self.db = db
        self.clock = clock
    }

    public func find(id: Int64) throws -> Portal? {
        try db.queryOne("SELECT * FROM portals WHERE id = $1", [id]).map(Portal.init)
    }

    public func find(slug: String) throws -> Portal? {
        try db.queryOne("SELECT * FROM portals WHERE slug = $1", [slug]).map(Portal.init)
    }

    /// Whether each of the owner's portals is switched on, by id (to report what a change did).
    public func activeStates(userID: Int64) throws -> [Int64: Bool] {
        var states: [Int64: Bool] = [:]
        for row in try db.query("SELECT id, active FROM portals WHERE user_id = $1", [userID]) { states[try row.get("id")] = try row.get("active") }
        return states
    }

    /// The owner's portals with how many files each received (kept by the schema's triggers).
    public func list(userID: Int64) throws -> [(portal: Portal, uploads: Int)] {
        try db.query("""
            SELECT * FROM portals WHERE user_id = $1 ORDER BY created_at DESC, id DESC
            """, [userID]).map { (try Portal(row: $0), try $0.get("uploaded_files", as: Int.self)) }
    }

    /// The largest file the owner's plan allows.
    public func planFileLimit(userID: Int64) throws -> Int64 {
        try db.scalar("SELECT p.max_file_bytes FROM users u JOIN tariff_plans p ON p.id = u.plan_id WHERE u.id = $1",
                      [userID], as: Int64.self) ?? PortalRules.defaultMaxFileBytes
    }

    /// The largest file a portal takes now: its own limit, never above its owner's plan (a plan
    /// can shrink after the portal was saved, and a portal without a limit has the plan's).
    public func fileLimit(of portal: Portal) throws -> Int64 {
        min(portal.maxFileBytes ?? PortalRules.defaultMaxFileBytes, try planFileLimit(userID: portal.userID))
    }

    /// How many portals the owner's plan allows; nil without a plan.
    public func planPortalLimit(userID: Int64) throws -> Int? {
        try db.scalar("SELECT p.max_portals FROM users u JOIN tariff_plans p ON p.id = u.plan_id WHERE u.id = $1", [userID], as: Int.self)
    }

    /// Checks every field; returns the errors by field (empty: fine) and the normalised input.
    public func validate(_ input: PortalInput, userID: Int64, existing: Portal?) throws -> (PortalInput, FieldErrors) {
        var errors = FieldErrors()
        var input = input
        if let name = errors.capture("name", { () throws -> String in
            let n = input.name.trimmingSpaces()
            guard !n.isEmpty else { throw ValidationError("", "Enter a name.") }
            guard n.count <= 100 else { throw ValidationError("", "Use at most 100 characters.") }
            return n
        }) { input.name = name }
        if let slug = errors.capture("slug", { try PortalRules.slug(input.slug) }) { input.slug = slug }
        if input.description.count > 2000 { errors["description"] = "Use at most 2000 characters." }
        input.folderName = String(input.folderName.trimmingSpaces().prefix(100))
        if input.folderName.isEmpty { input.folderName = input.name }
        if let password = input.password, !password.isEmpty, password.count < 6 {
            errors["password"] = "Use at least 6 characters, or leave it empty for no password."
        } else if let password = input.password, password.count > 200 {
            errors["password"] = "Use at most 200 characters."
        }
        let limit = try planFileLimit(userID: userID)
        if let max = input.maxFileBytes, max > limit {
            errors["max_file"] = "Your plan allows files up to \(ByteSize(bytes: limit))."
        }
        if let extensions = errors.capture("allowed_types", { try PortalRules.extensions(input.allowedExtensions) }) { input.allowedExtensions = extensions }
        if let color = errors.capture("accent_color", { try PortalBranding.accentColor(input.accentColor ?? "") }) { input.accentColor = color }
        if !(1...1000).contains(input.maxFiles) { errors["max_files"] = "Enter a number from 1 to 1000." }
        // The storage binding: only an ACTIVE account of the owner; changing it affects future uploads only.
        if input.storageAccountID != existing?.storageAccountID || existing == nil {
            let accounts = try StorageAccountStore(db: db, clock: clock).list(userID: userID)
                .map { StorageRules.Account(id: $0.id, provider: $0.provider, status: $0.status) }
            if let chosen = input.storageAccountID {
                let provider = accounts.first { $0.id == chosen }?.provider ?? .local
                switch StorageRules.portalBinding(provider: provider, selectedAccountID: chosen, accounts: accounts) {
                case .success: break
                case .failure(let e): errors["storage_account_id"] = e.description
                }
            } else {
                errors["storage_account_id"] = "Choose the storage account files go to."
            }
        }
        // The backup: checked when it changes, or when the account it must differ from does.
        if input.backupStorageAccountID != existing?.backupStorageAccountID || input.storageAccountID != existing?.storageAccountID {
            let accounts = try StorageAccountStore(db: db, clock: clock).list(userID: userID)
                .map { StorageRules.Account(id: $0.id, provider: $0.provider, status: $0.status) }
            let unchanged = input.backupStorageAccountID == existing?.backupStorageAccountID
            switch StorageRules.backupBinding(primaryID: input.storageAccountID, selectedBackupID: input.backupStorageAccountID, accounts: accounts) {
            case .success: break
            // A backup kept as it was need not be active now (it may be failing too); it must still differ.
            case .failure(.notActive) where unchanged: break
            case .failure(let e): errors["backup_storage_account_id"] = e.description
            }
        }
        return (input, errors)
    }

    public func create(_ raw: PortalInput, userID: Int64, by actor: AuditLog.Actor) throws -> Result<Portal, FieldErrors> {
        let (input, errors) = try validate(raw, userID: userID, existing: nil)
        guard errors.isEmpty else { return .failure(errors) }
        let hash = try input.password.flatMap { $0.isEmpty ? nil : try PasswordHash.hash($0) }
        return try db.write {
            // Counted inside the write transaction, so parallel creations cannot pass the limit together.
            if let limit = try planPortalLimit(userID: userID),
               let count = try db.scalar("SELECT count(*) FROM portals WHERE user_id = $1", [userID], as: Int.self), count >= limit {
                var full = FieldErrors()
                full["form"] = "Your plan allows \(limit) portal\(limit == 1 ? "" : "s") and you have \(count). Delete one, or ask for a larger plan."
                return .failure(full)
            }
            let now = clock.now()
            let id: Int64
            do {
                id = try db.scalar("""
                    INSERT INTO portals (user_id, name, slug, description, storage_account_id, folder_name, client_subfolders, password_hash,
                                         client_name_mode, client_email_mode, message_field, max_file_bytes, allowed_extensions, max_files,
                                         active, upload_notifications, created_at, updated_at, allowed_families, accent_color, backup_storage_account_id)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $17, $18, $19, $20) RETURNING id
                    """, [userID, input.name, input.slug, input.description, input.storageAccountID, input.folderName, input.clientSubfolders,
                          hash, input.clientNameMode.rawValue, input.clientEmailMode.rawValue, input.messageField, input.maxFileBytes,
                          input.allowedExtensions.sorted().joined(separator: ","), input.maxFiles, input.active, input.notifications?.rawValue, now,
                          input.allowedFamilies.sorted().map(\.rawValue).joined(separator: ","), input.accentColor, input.backupStorageAccountID],
                        as: Int64.self)!
            } catch let error as DatabaseError where error.kind == .constraint {
                var taken = FieldErrors()
                taken["slug"] = "This address is taken; choose another."
                return .failure(taken)
            }
            let portal = try find(id: id)!
            try AuditLog(db: db, clock: clock).record(actor, action: "portal.create", entityType: "portal", entityID: String(id),
                                                      after: [("slug", portal.slug), ("storage_account_id", portal.storageAccountID.map(String.init)),
                                                              ("backup_storage_account_id", portal.backupStorageAccountID.map(String.init))])
            return .success(portal)
        }
    }

    /// Saves an edited portal. A new storage account applies to future uploads only: files keep
    /// the account they landed in.
    public func update(id: Int64, _ raw: PortalInput, by actor: AuditLog.Actor) throws -> Result<Portal, FieldErrors> {
        guard let existing = try find(id: id) else { throw ValidationError("", "There is no such portal.") }
        let (input, errors) = try validate(raw, userID: existing.userID, existing: existing)
        guard errors.isEmpty else { return .failure(errors) }
        // nil: keep the password; .some(nil): remove it; .some(hash): a new one.
        var hash: String??
        if let password = input.password {
            hash = .some(password.isEmpty ? nil : try PasswordHash.hash(password))
        }
        return try db.write {
            do {
                try db.execute("""
                    UPDATE portals SET name = $1, slug = $2, description = $3, storage_account_id = $4, folder_name = $5, client_subfolders = $6,
                           client_name_mode = $7, client_email_mode = $8, message_field = $9, max_file_bytes = $10, allowed_extensions = $11,
                           max_files = $12, updated_at = $13, upload_notifications = $15, allowed_families = $16, accent_color = $17,
                           backup_storage_account_id = $18 WHERE id = $14
                    """, [input.name, input.slug, input.description, input.storageAccountID, input.folderName, input.clientSubfolders,
                          input.clientNameMode.rawValue, input.clientEmailMode.rawValue, input.messageField, input.maxFileBytes,
                          input.allowedExtensions.sorted().joined(separator: ","), input.maxFiles, clock.now(), id, input.notifications?.rawValue,
                          input.allowedFamilies.sorted().map(\.rawValue).joined(separator: ","), input.accentColor, input.backupStorageAccountID])
            } catch let error as DatabaseError where error.kind == .constraint {
                var taken = FieldErrors()
                taken["slug"] = "This address is taken; choose another."
                return .failure(taken)
            }
            if let hash { try db.execute("UPDATE portals SET password_hash = $1 WHERE id = $2", [hash, id]) }
            if input.backupStorageAccountID != existing.backupStorageAccountID { try followFailingAccount(portalID: id) }
            let portal = try find(id: id)!
            try AuditLog(db: db, clock: clock).record(actor, action: "portal.update", entityType: "portal", entityID: String(id),
                                                      before: [("slug", existing.slug), ("storage_account_id", existing.storageAccountID.map(String.init)),
                                                               ("backup_storage_account_id", existing.backupStorageAccountID.map(String.init))],
                                                      after: [("slug", portal.slug), ("storage_account_id", portal.storageAccountID.map(String.init)),
                                                              ("backup_storage_account_id", portal.backupStorageAccountID.map(String.init))])
            return .success(portal)
        }
    }

    /// After a portal's backup changed: a portal the system switched off because its account
    /// fails comes back on with a backup (the backup takes its uploads), and one kept on by its
    /// backup while its account fails is switched off without one — as `handleStatusChange`
    /// would have left it.
    func followFailingAccount(portalID: Int64) throws {
        let now = clock.now()
        let switchedOn = try db.query("""
            UPDATE portals SET active = 1, auto_deactivated = 0, inactive_reason = NULL, updated_at = $2
            WHERE id = $1 AND auto_deactivated = 1 AND backup_storage_account_id IS NOT NULL
              AND inactive_reason IN ('storage_error', 'storage_disconnected')
            RETURNING user_id, slug, name, active, inactive_reason
            """, [portalID, now])
        let switchedOff = try db.query("""
            UPDATE portals SET active = 0, auto_deactivated = 1, updated_at = $2,
                   inactive_reason = CASE (SELECT status FROM storage_accounts a WHERE a.id = portals.storage_account_id)
                                     WHEN 'ERROR' THEN 'storage_error' ELSE 'storage_disconnected' END
            WHERE id = $1 AND active = 1 AND backup_storage_account_id IS NULL
              AND (SELECT status FROM storage_accounts a WHERE a.id = portals.storage_account_id) IN ('ERROR', 'DISCONNECTED')
            RETURNING user_id, slug, name, active, inactive_reason
            """, [portalID, now])
        for row in switchedOn + switchedOff {
            let active: Bool = try row.get("active")
            try WebhookEvents(db: db, clock: clock).emit(userID: try row.get("user_id"), type: active ? .portalReactivated : .portalDeactivated,
                                                         data: WebhookPayloads.portal(id: portalID, slug: try row.get("slug"), name: try row.get("name"),
                                                                                      active: active, automatic: true, reason: try row.get("inactive_reason")))
        }
    }

    /// Deletes a portal that has received no files; one with files is kept (deactivate it).
    public func delete(id: Int64, by actor: AuditLog.Actor) throws {
        try db.write {
            guard let portal = try find(id: id) else { throw ValidationError("", "There is no such portal.") }
            let files = try db.scalar("SELECT count(*) FROM file_uploads WHERE portal_id = $1", [id], as: Int.self) ?? 0
            guard files == 0 else { throw ValidationError("", "This portal has \(files) file(s); deactivate it instead, so they stay reachable.") }
            try db.execute("DELETE FROM portals WHERE id = $1", [id])
            try AuditLog(db: db, clock: clock).record(actor, action: "portal.delete", entityType: "portal", entityID: String(id),
                                                      before: [("slug", portal.slug)])
        }
    }

    /// The owner switches a portal off or on (only the owner's switch: automatic ones are marked).
    /// A portal whose storage account takes no uploads cannot be switched on: it would accept
    /// nothing (the reason is the error's message).
    public func setActive(id: Int64, active: Bool, by actor: AuditLog.Actor) throws {
        try db.write {
            if active, let portal = try find(id: id), let accountID = portal.storageAccountID {
                let accounts = try StorageAccountStore(db: db, clock: clock).list(userID: portal.userID)
                    .map { StorageRules.Account(id: $0.id, provider: $0.provider, status: $0.status) }
                if case .refuse = StorageRules.uploadDecision(portalAccountID: accountID, backupAccountID: portal.backupStorageAccountID,
                                                              portalProvider: nil, accounts: accounts) {
                    let status = accounts.first { $0.id == accountID }?.status
                    throw ValidationError("", "“\(portal.name)” cannot be switched on. " + StorageRules.accountMessage(status))
                }
            }
            let before = try find(id: id)
            try db.execute("UPDATE portals SET active = $1, auto_deactivated = 0, inactive_reason = NULL, updated_at = $2 WHERE id = $3",
                           [active, clock.now(), id])
            if let before, before.active != active {
                try WebhookEvents(db: db, clock: clock).emit(userID: before.userID, type: active ? .portalReactivated : .portalDeactivated,
                                                             data: WebhookPayloads.portal(id: id, slug: before.slug, name: before.name, active: active,
                                                                                          automatic: false, reason: nil))
            }
            try AuditLog(db: db, clock: clock).record(actor, action: active ? "portal.activate" : "portal.deactivate", entityType: "portal",
                                                      entityID: String(id))
        }
    }

    /// Checks a portal password (argon2id), in constant time for the comparison itself.
    public func verifyPassword(portalID: Int64, password: String) throws -> Bool {
        guard let hash = try db.scalar("SELECT password_hash FROM portals WHERE id = $1", [portalID], as: String?.self) ?? nil else { return true }
        return PasswordHash.verify(password, against: hash)
    }
}
