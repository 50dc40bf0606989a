import Database
import Testing
@testable import Intake

@Suite("Portals")
struct PortalStoreTests {
    let actor = AuditLog.Actor(userID: nil, remoteAddress: "")

    @Test("slugs: lower-case letters, digits, single inner hyphens; reserved words refused", arguments: [
        ("acme-2026", true), ("Acme", false), ("ab", false), ("-acme", false), ("ac--me", false), ("admin", false), ("api", false),
        ("a_b", false), ("ünicode", false), (String(repeating: "a", count: 61), false), ("client-uploads", true),
    ])
    func slug(text: String, ok: Bool) {
        #expect(((try? PortalRules.slug(text)) != nil) == ok, "\(text)")
    }

    @Test("a portal binds only to an active account of its owner; its file limit stays within the plan; a taken slug is refused")
    func create() throws {
        try withDatabase { db in
            let clock = ManualClock()
            let users = UserStore(db: db, clock: clock)
            let owner = try users.create(email: "o@example.com", name: "O", password: "long enough pw", role: .user)
            let other = try users.create(email: "x@example.com", name: "X", password: "long enough pw", role: .user)
            let accounts = StorageAccountStore(db: db, clock: clock)
            let mine = try accounts.createOrGet(userID: owner.id, provider: .local, providerAccountID: "disk", email: nil, displayName: "Disk", by: actor).account
            let off = try accounts.createOrGet(userID: owner.id, provider: .googleDrive, providerAccountID: "g", email: nil, displayName: "G", by: actor).account
            try accounts.handleStatusChange(accountID: off.id, event: .ownerDeactivates, reason: nil, by: actor)
            let theirs = try accounts.createOrGet(userID: other.id, provider: .local, providerAccountID: "disk", email: nil, displayName: "D", by: actor).account
            let store = PortalStore(db: db, clock: clock)

            var input = PortalInput(name: "Acme uploads", slug: "acme")
            input.storageAccountID = mine.id
            input.password = "s3cret!"
            input.allowedExtensions = [".pdf", "*.PNG", "dwg"]
            input.allowedFamilies = [.video]
            input.accentColor = "#1A5"
            guard case .success(let portal) = try store.create(input, userID: owner.id, by: actor) else { Issue.record("not created"); return }
            #expect(portal.folderName == "Acme uploads" && portal.hasPassword && portal.allowedExtensions == ["pdf", "png", "dwg"])
            #expect(portal.allowedFamilies == [.video] && portal.accentColor == "#11aa55", "families and the colour are kept, normalised")
            #expect(try store.verifyPassword(portalID: portal.id, password: "s3cret!") && !(try store.verifyPassword(portalID: portal.id, password: "no")))

            func errors(_ change: (inout PortalInput) -> Void) throws -> FieldErrors {
                var i = PortalInput(name: "Other", slug: "other-portal")
                i.storageAccountID = mine.id
                change(&i)
                if case .failure(let e) = try store.create(i, userID: owner.id, by: actor) { return e }
                return FieldErrors()
            }
            let taken = try errors { $0.slug = "acme" }
            #expect(taken["slug"] == "This address is taken; choose another.")
            let inactive = try errors { $0.storageAccountID = off.id }
            #expect(inactive["storage_account_id"]?.contains("inactive") == true)
            let foreign = try errors { $0.storageAccountID = theirs.id }
            #expect(foreign["storage_account_id"] == "Choose one of your own storage accounts.")
            let tooLarge = try errors { $0.maxFileBytes = PortalRules.defaultMaxFileBytes + 1 }
            #expect(tooLarge["max_file"]?.contains("Your plan allows") == true)
            let badExtension = try errors { $0.allowedExtensions = ["pdf", "tar.gz"] }
            #expect(badExtension["allowed_types"] == "“tar.gz”: give the last part only (for .tar.gz write gz).")
            let notAnExtension = try errors { $0.allowedExtensions = ["p d f!"] }
            #expect(notAnExtension["allowed_types"]?.hasPrefix("“p d f!” is not an extension") == true)
            let badColor = try errors { $0.accentColor = "blue" }
            #expect(badColor["accent_color"] == "Give a colour as # and six hexadecimal digits, like #1a5fb4.")
            let noName = try errors { $0.name = " " }
            #expect(noName["name"] == "Enter a name.")
        }
    }

    @Test("changing the storage account applies to new uploads only; a portal with files is not deleted")
    func editAndDelete() throws {
        try withDatabase { db in
            let clock = ManualClock()
            let owner = try UserStore(db: db, clock: clock).create(email: "o@example.com", name: "O", password: "long enough pw", role: .user)
            let accounts = StorageAccountStore(db: db, clock: clock)
            let a = try accounts.createOrGet(userID: owner.id, provider: .local, providerAccountID: "a", email: nil, displayName: "A", by: actor).account
            let b = try accounts.createOrGet(userID: owner.id, provider: .local, providerAccountID: "b", email: nil, displayName: "B", by: actor).account
            let store = PortalStore(db: db, clock: clock)
            var input = PortalInput(name: "P", slug: "portal-one")
            input.storageAccountID = a.id
            guard case .success(let portal) = try store.create(input, userID: owner.id, by: actor) else { Issue.record("not created"); return }
            try db.execute("INSERT INTO file_uploads (portal_id, user_id, storage_account_id, file_name, size_bytes, status, created_at, updated_at) VALUES ($1, $2, $3, 'f', 1, 'uploaded', 0, 0)",
                           [portal.id, owner.id, a.id])
            input.storageAccountID = b.id
            guard case .success(let moved) = try store.update(id: portal.id, input, by: actor) else { Issue.record("not saved"); return }
            #expect(moved.storageAccountID == b.id)
            #expect(try db.scalar("SELECT storage_account_id FROM file_uploads", as: Int64.self) == a.id, "the stored file stays with its account")
            #expect(throws: ValidationError.self) { try store.delete(id: portal.id, by: actor) }
            #expect(try store.list(userID: owner.id).first?.uploads == 1)
        }
    }
}
