import Database
import Sodium
import Testing
@testable import Intake

@Suite("Portal backup accounts and failover (the store and the schema)")
struct PortalFailoverTests {
    let actor = AuditLog.Actor(userID: nil, remoteAddress: "")

    struct Setup {
        let db: any Database
        let clock: ManualClock
        let owner: User
        let drive: StorageAccount
        let box: StorageAccount
        let theirs: StorageAccount
        let portals: PortalStore
        let accounts: StorageAccountStore
    }

    func withSetup(_ body: (Setup) throws -> Void) throws {
        try withDatabase { db in
            let clock = ManualClock()
            let users = UserStore(db: db, clock: clock)
            let owner = try users.create(email: "o@example.com", name: "O", password: "long enough pw", role: .user)
            let other = try users.create(email: "x@example.com", name: "X", password: "long enough pw", role: .user)
            let accounts = StorageAccountStore(db: db, clock: clock)
            let drive = try accounts.createOrGet(userID: owner.id, provider: .googleDrive, providerAccountID: "g", email: "o@gmail.example",
                                                 displayName: "Google Drive (o@gmail.example)", by: actor).account
            let box = try accounts.createOrGet(userID: owner.id, provider: .dropbox, providerAccountID: "d", email: "o@box.example",
                                               displayName: "Dropbox (o@box.example)", by: actor).account
            let theirs = try accounts.createOrGet(userID: other.id, provider: .local, providerAccountID: "disk", email: nil, displayName: "D", by: actor).account
            try body(Setup(db: db, clock: clock, owner: owner, drive: drive, box: box, theirs: theirs, portals: PortalStore(db: db, clock: clock),
                           accounts: accounts))
        }
    }

    func create(_ s: Setup, slug: String, backup: Int64?) throws -> Result<Portal, FieldErrors> {
        var input = PortalInput(name: "Portal \(slug)", slug: slug)
        input.storageAccountID = s.drive.id
        input.backupStorageAccountID = backup
        return try s.portals.create(input, userID: s.owner.id, by: actor)
    }

    @Test("the form's rules: a backup is another of the owner's active accounts; saved, audited, and kept through an edit")
    func validation() throws {
        try withSetup { s in
            guard case .failure(let same) = try create(s, slug: "same", backup: s.drive.id) else { Issue.record("accepted"); return }
            #expect(same["backup_storage_account_id"] == "The backup must be another account than the one files go to.")
            guard case .failure(let foreign) = try create(s, slug: "foreign", backup: s.theirs.id) else { Issue.record("accepted"); return }
            #expect(foreign["backup_storage_account_id"] == "Choose one of your own storage accounts as the backup.")
            try s.accounts.handleStatusChange(accountID: s.box.id, event: .ownerDeactivates, reason: nil, by: actor)
            guard case .failure(let paused) = try create(s, slug: "paused", backup: s.box.id) else { Issue.record("accepted"); return }
            #expect(paused["backup_storage_account_id"] == "The chosen backup account is paused; only an active account can be chosen.")
            #expect(try s.db.scalar("SELECT count(*) FROM portals", as: Int.self) == 0, "nothing half-written")

            try s.accounts.handleStatusChange(accountID: s.box.id, event: .ownerReactivates, reason: nil, by: actor)
            guard case .success(let portal) = try create(s, slug: "good", backup: s.box.id) else { Issue.record("refused"); return }
            #expect(portal.backupStorageAccountID == s.box.id)
            #expect(try s.db.scalar("SELECT after_json FROM audit_log WHERE action = 'portal.create'", as: String.self)?.contains("backup_storage_account_id") == true)
            // The backup pauses later: an edit of something else keeps it.
            try s.accounts.handleStatusChange(accountID: s.box.id, event: .ownerDeactivates, reason: nil, by: actor)
            var edit = PortalInput(name: "Renamed", slug: "good")
            edit.storageAccountID = s.drive.id
            edit.backupStorageAccountID = s.box.id
            guard case .success(let edited) = try s.portals.update(id: portal.id, edit, by: actor) else { Issue.record("refused"); return }
            #expect(edited.name == "Renamed" && edited.backupStorageAccountID == s.box.id)
        }
    }

    @Test("the database refuses a backup that is the portal's own account or another owner's, on insert and on update")
    func schemaRefuses() throws {
        try withSetup { s in
            func insert(_ backup: Int64) throws {
                try s.db.execute("""
                    INSERT INTO portals (user_id, name, slug, storage_account_id, backup_storage_account_id, created_at, updated_at)
                    VALUES ($1, 'P', 'p\(backup)', $2, $3, 0, 0)
                    """, [s.owner.id, s.drive.id, backup])
            }
            #expect(throws: DatabaseError.self) { try insert(s.drive.id) }
            #expect(throws: DatabaseError.self) { try insert(s.theirs.id) }
            try insert(s.box.id)
            #expect(throws: DatabaseError.self) { try s.db.execute("UPDATE portals SET backup_storage_account_id = $1", [s.theirs.id]) }
            #expect(throws: DatabaseError.self) { try s.db.execute("UPDATE portals SET storage_account_id = backup_storage_account_id") }
            #expect(try s.db.scalar("SELECT backup_storage_account_id FROM portals", as: Int64.self) == s.box.id)
        }
    }

    @Test("the account fails: a portal with a backup stays on, one without is switched off; the owner is mailed once per incident; paused: both off")
    func statusChanges() throws {
        try withSetup { s in
            guard case .success(let covered) = try create(s, slug: "covered", backup: s.box.id),
                  case .success(let bare) = try create(s, slug: "bare", backup: nil) else { Issue.record("refused"); return }
            func active(_ p: Portal) throws -> Bool { try s.portals.find(id: p.id)!.active }
            _ = try WebhookEndpoints(db: s.db, clock: s.clock, secretKey: Sodium.randomBytes(32)).create(
                userID: s.owner.id, url: "https://hooks.example.com/intake", description: "", events: ["portal.deactivated", "portal.reactivated"],
                allowPrivate: false, by: actor)
            func announced() throws -> [String] {
                try s.db.query("SELECT type, payload FROM webhook_deliveries ORDER BY id").map {
                    let payload: String = try $0.get("payload")
                    return try $0.get("type", as: String.self) + (payload.contains(#""slug":"covered""#) ? " covered" : " bare")
                }
            }
            func failoverMails() throws -> [String] {
                try s.db.query("SELECT subject FROM mail_outbox WHERE subject LIKE '%backup storage%' ORDER BY id").map { try $0.get("subject") }
            }
            try s.accounts.handleStatusChange(accountID: s.drive.id, event: .temporaryFailure, reason: "503", by: actor)
            #expect(try active(covered) && !(try active(bare)))
            #expect(try announced() == ["portal.deactivated bare"], "only the portal switched off is announced")
            #expect(try failoverMails() == ["Your portal “Portal covered” now uses its backup storage"])
            let body = try s.db.scalar("SELECT body FROM mail_outbox WHERE subject LIKE '%backup storage%'", as: String.self) ?? ""
            #expect(body.contains("- Portal covered (/p/covered): new files go to Dropbox (o@box.example)") && !body.contains("bare"))
            // Still failing, now refused for good: the same incident, no second mail.
            try s.accounts.handleStatusChange(accountID: s.drive.id, event: .accessRevoked, reason: "invalid_grant", by: actor)
            #expect(try failoverMails().count == 1 && active(covered))
            // Back: uploads return, the incident closes; the next one is told again.
            try s.accounts.handleStatusChange(accountID: s.drive.id, event: .reconnected, reason: nil, by: actor)
            #expect(try active(covered) && active(bare) && s.portals.find(id: covered.id)!.failoverNotifiedAt == nil)
            #expect(try announced() == ["portal.deactivated bare", "portal.reactivated bare"])
            try s.accounts.handleStatusChange(accountID: s.drive.id, event: .temporaryFailure, reason: "503", by: actor)
            #expect(try failoverMails().count == 2)
            try s.accounts.handleStatusChange(accountID: s.drive.id, event: .providerReachable, reason: nil, by: actor)
            // Paused by its owner: no failover, every portal off.
            try s.accounts.handleStatusChange(accountID: s.drive.id, event: .ownerDeactivates, reason: nil, by: actor)
            #expect(try !active(covered) && !active(bare) && failoverMails().count == 2)
        }
    }

    @Test("a backup added to a portal switched off by its failing account switches it on; removing it switches it off again")
    func backupFollowsTheFailingAccount() throws {
        try withSetup { s in
            guard case .success(let portal) = try create(s, slug: "late", backup: nil) else { Issue.record("refused"); return }
            try s.accounts.handleStatusChange(accountID: s.drive.id, event: .temporaryFailure, reason: "503", by: actor)
            #expect(try !s.portals.find(id: portal.id)!.active)
            #expect(throws: ValidationError.self) { try s.portals.setActive(id: portal.id, active: true, by: actor) }
            var input = PortalInput(name: portal.name, slug: portal.slug)
            input.storageAccountID = s.drive.id
            input.backupStorageAccountID = s.box.id
            guard case .success(let covered) = try s.portals.update(id: portal.id, input, by: actor) else { Issue.record("refused"); return }
            #expect(covered.active && covered.inactiveReason == nil)
            let acceptance = StorageRules.acceptance(of: covered, accounts: try s.accounts.list(userID: s.owner.id))
            #expect(acceptance.accepts && acceptance.ownerMessage?.contains("new files go to the backup account #\(s.box.id)") == true)
            input.backupStorageAccountID = nil
            guard case .success(let bare) = try s.portals.update(id: portal.id, input, by: actor) else { Issue.record("refused"); return }
            #expect(!bare.active && bare.inactiveReason == "storage_error")
        }
    }
}
