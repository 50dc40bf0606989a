import Database
import Foundation
import Synchronization
import Testing
@testable import Intake

@Suite("Storage accounts and their portals")
struct StorageAccountStoreTests {
    let actor = AuditLog.Actor(userID: nil, remoteAddress: "test")

    func owner(_ db: Database, _ clock: EpochClock) throws -> User {
        try UserStore(db: db, clock: clock).create(email: "o@example.com", name: "O", password: "long enough pw", role: .user)
    }

    func portal(_ db: Database, user: Int64, account: Int64, slug: String, active: Bool) throws {
        try db.execute("""
            INSERT INTO portals (user_id, name, slug, storage_account_id, active, created_at, updated_at) VALUES ($1, $2, $2, $3, $4, 0, 0)
            """, [user, slug, account, active])
    }

    @Test("revocation switches the account's active portals off; reconnecting switches back on only those")
    func portalsFollow() throws {
        try withDatabase { db in
            let clock = ManualClock()
            let user = try owner(db, clock)
            let store = StorageAccountStore(db: db, clock: clock)
            let (account, created, _) = try store.createOrGet(userID: user.id, provider: .googleDrive, providerAccountID: "g-1",
                                                              email: "o@gmail.com", displayName: "Drive", by: actor)
            #expect(created && account.status == .active)
            try portal(db, user: user.id, account: account.id, slug: "a", active: true)
            try portal(db, user: user.id, account: account.id, slug: "b", active: true)
            try portal(db, user: user.id, account: account.id, slug: "off-by-owner", active: false)

            let revoked = try store.handleStatusChange(accountID: account.id, event: .accessRevoked, reason: "invalid_grant", by: actor)
            #expect(revoked == PortalManagementResult(from: .active, to: .disconnected, deactivatedPortals: 2, reactivatedPortals: 0))
            #expect(try store.find(id: account.id)?.lastError == "invalid_grant")
            #expect(try db.scalar("SELECT count(*) FROM portals WHERE active = 0 AND inactive_reason = 'storage_disconnected'", as: Int.self) == 2)

            let back = try store.handleStatusChange(accountID: account.id, event: .reconnected, reason: nil, by: actor)
            #expect(back.reactivatedPortals == 2 && back.to == .active)
            #expect(try db.query("SELECT slug FROM portals WHERE active = 1 ORDER BY slug").map { try $0.get("slug", as: String.self) } == ["a", "b"])
            #expect(try db.scalar("SELECT active FROM portals WHERE slug = 'off-by-owner'", as: Int.self) == 0, "the owner's choice stands")
            let audit = try AuditLog(db: db, clock: clock).entries(action: "storage_account.status", entityType: nil, actor: nil, before: nil, limit: 10)
            #expect(audit.entries.count == 2)
            #expect(audit.entries.last?.after?.contains(#""event":"accessRevoked""#) == true)
        }
    }

    @Test("an illegal transition is refused and changes nothing")
    func refused() throws {
        try withDatabase { db in
            let clock = ManualClock()
            let user = try owner(db, clock)
            let store = StorageAccountStore(db: db, clock: clock)
            let account = try store.createOrGet(userID: user.id, provider: .dropbox, providerAccountID: "d-1", email: nil,
                                                displayName: "Dropbox", by: actor).account
            try portal(db, user: user.id, account: account.id, slug: "p", active: true)
            #expect(throws: StorageAccountTransitions.Refused.self) {
                try store.handleStatusChange(accountID: account.id, event: .ownerReactivates, reason: nil, by: actor)
            }
            #expect(try store.find(id: account.id)?.status == .active)
            #expect(try db.scalar("SELECT active FROM portals", as: Int.self) == 1)
            #expect(try db.scalar("SELECT count(*) FROM audit_log WHERE action = 'storage_account.status'", as: Int.self) == 0)
        }
    }

    @Test("createOrGet leaves a disconnected account as it is, unless the owner has just reconnected it")
    func reactivation() throws {
        try withDatabase { db in
            let clock = ManualClock()
            let user = try owner(db, clock)
            let store = StorageAccountStore(db: db, clock: clock)
            let account = try store.createOrGet(userID: user.id, provider: .googleDrive, providerAccountID: "g-2", email: nil,
                                                displayName: "D", by: actor).account
            try store.handleStatusChange(accountID: account.id, event: .accessRevoked, reason: "revoked", by: actor)
            let kept = try store.createOrGet(userID: user.id, provider: .googleDrive, providerAccountID: "g-2", email: nil,
                                             displayName: "D", by: actor)
            #expect(!kept.created && !kept.reactivated && kept.account.status == .disconnected)
            let again = try store.createOrGet(userID: user.id, provider: .googleDrive, providerAccountID: "g-2", email: nil,
                                              displayName: "D", reconnected: true, by: actor)
            #expect(!again.created && again.reactivated && again.account.status == .active)
        }
    }

    @Test("20 concurrent callers on separate connections create exactly one account")
    func concurrentCreation() throws {
        try withDatabase { setup in
            let location = setup.location
            let user = try owner(setup, ManualClock())
            let created = Mutex(0)
            let failures = Mutex<[String]>([])
            DispatchQueue.concurrentPerform(iterations: 20) { _ in
                do {
                    let db = try location.open()
                    let result = try StorageAccountStore(db: db, clock: ManualClock()).createOrGet(
                        userID: user.id, provider: .googleDrive, providerAccountID: "g-race", email: nil, displayName: "D",
                        by: AuditLog.Actor(userID: nil, remoteAddress: ""))
                    if result.created { created.withLock { $0 += 1 } }
                } catch {
                    failures.withLock { $0.append("\(error)") }
                }
            }
            #expect(failures.withLock { $0 }.isEmpty)
            #expect(created.withLock { $0 } == 1)
            #expect(try setup.scalar("SELECT count(*) FROM storage_accounts", as: Int.self) == 1)
        }
    }
}

@Suite("ensureStorageAccountsForUser")
struct EnsureStorageAccountsTests {
    func oauth(_ db: Database, user: Int64, provider: String, id: String, scopes: String) throws {
        try db.execute("""
            INSERT INTO oauth_accounts (user_id, provider, provider_account_id, email, scopes, created_at, updated_at)
            VALUES ($1, $2, $3, 'x@example.com', $4, 0, 0)
            """, [user, provider, id, scopes])
    }

    @Test("creates for storage grants, skips sign-in-only grants unless forced, and counts what it did")
    func summary() throws {
        try withDatabase { db in
            let clock = ManualClock()
            let user = try UserStore(db: db, clock: clock).create(email: "e@example.com", name: "E", password: "long enough pw", role: .user)
            try oauth(db, user: user.id, provider: "google", id: "g-store", scopes: "openid email https://www.googleapis.com/auth/drive.file")
            try oauth(db, user: user.id, provider: "google", id: "g-login", scopes: "openid email profile")
            try oauth(db, user: user.id, provider: "dropbox", id: "d-1", scopes: "account_info.read files.content.write")
            let manager = StorageAccountManager(db: db, clock: clock)
            let actor = AuditLog.Actor(userID: nil, remoteAddress: "")
            let first = try manager.ensureStorageAccounts(userID: user.id, respectDisconnected: false, by: actor)
            #expect(first == StorageAccountManager.Summary(created: 2, reactivated: 0, validated: 0, errors: []))
            let second = try manager.ensureStorageAccounts(userID: user.id, respectDisconnected: false, by: actor)
            #expect(second == StorageAccountManager.Summary(created: 0, reactivated: 0, validated: 2, errors: []))
            let forced = try manager.ensureStorageAccounts(userID: user.id, forceCreate: true, respectDisconnected: false, by: actor)
            #expect(forced.created == 1 && forced.validated == 2)
        }
    }

    @Test("20 concurrent runs on separate connections leave no duplicate")
    func concurrent() throws {
        try withDatabase { setup in
            let location = setup.location
            let user = try UserStore(db: setup, clock: ManualClock()).create(email: "e@example.com", name: "E", password: "long enough pw", role: .user)
            try oauth(setup, user: user.id, provider: "google", id: "g", scopes: "https://www.googleapis.com/auth/drive.file")
            try oauth(setup, user: user.id, provider: "dropbox", id: "d", scopes: "files.content.write")
            let created = Mutex(0)
            let errors = Mutex<[String]>([])
            DispatchQueue.concurrentPerform(iterations: 20) { _ in
                do {
                    let summary = try StorageAccountManager(db: try location.open(), clock: ManualClock())
                        .ensureStorageAccounts(userID: user.id, respectDisconnected: false, by: AuditLog.Actor(userID: nil, remoteAddress: ""))
                    created.withLock { $0 += summary.created }
                    errors.withLock { $0 += summary.errors }
                } catch {
                    errors.withLock { $0.append("\(error)") }
                }
            }
            #expect(errors.withLock { $0 }.isEmpty)
            #expect(created.withLock { $0 } == 2)
            #expect(try setup.scalar("SELECT count(*) FROM storage_accounts", as: Int.self) == 2)
        }
    }
}

@Suite("File binding")
struct FileBindingTests {
    @Test("the database refuses to change a file's storage account once set (or to clear it)")
    func permanent() throws {
        try withDatabase { db in
            let clock = ManualClock()
            let user = try UserStore(db: db, clock: clock).create(email: "f@example.com", name: "F", password: "long enough pw", role: .user)
            let store = StorageAccountStore(db: db, clock: clock)
            let actor = AuditLog.Actor(userID: nil, remoteAddress: "")
            let a = try store.createOrGet(userID: user.id, provider: .googleDrive, providerAccountID: "a", email: nil, displayName: "A", by: actor).account
            let b = try store.createOrGet(userID: user.id, provider: .dropbox, providerAccountID: "b", email: nil, displayName: "B", by: actor).account
            try db.execute("INSERT INTO portals (user_id, name, slug, storage_account_id, created_at, updated_at) VALUES ($1, 'P', 'p', $2, 0, 0)", [user.id, a.id])
            try db.execute("INSERT INTO file_uploads (portal_id, user_id, file_name, size_bytes, created_at, updated_at) VALUES (1, $1, 'f.pdf', 10, 0, 0)", [user.id])
            try db.execute("UPDATE file_uploads SET storage_account_id = $1", [a.id])  // first binding: allowed
            let moved = try #require(throws: DatabaseError.self) { try db.execute("UPDATE file_uploads SET storage_account_id = $1", [b.id]) }
            #expect(moved.kind == .constraint && moved.message.contains("permanent once set"))
            #expect(throws: DatabaseError.self) { try db.execute("UPDATE file_uploads SET storage_account_id = NULL") }
            try db.execute("UPDATE file_uploads SET status = 'uploaded', storage_account_id = $1", [a.id])  // same value: fine
            #expect(try db.scalar("SELECT storage_account_id FROM file_uploads", as: Int64.self) == a.id)
        }
    }
}

@Suite("Storage account use")
struct StorageAccountAccessTests {
    @Test("every use is recorded, at most once a minute")
    func throttled() throws {
        try withDatabase { db in
            try db.executeScript("""
                INSERT INTO users (id, email, email_normalized, name, password_hash, role, created_at, updated_at) VALUES (1, 'a', 'a', 'A', 'x', 'user', 0, 0);
                INSERT INTO storage_accounts (id, user_id, provider, provider_account_id, display_name, created_at, updated_at) VALUES (1, 1, 'local', 'd', 'L', 0, 0);
                """)
            let clock = ManualClock()
            let store = StorageAccountStore(db: db, clock: clock)
            let seen = { try db.scalar("SELECT last_accessed_at FROM storage_accounts WHERE id = 1", as: Int64?.self) ?? nil }
            try store.recordAccess(id: 1)
            #expect(try seen() == clock.now())
            let first = clock.now()
            clock.advance(30)
            try store.recordAccess(id: 1)
            #expect(try seen() == first, "within the minute: no write")
            clock.advance(31)
            try store.recordAccess(id: 1)
            #expect(try seen() == clock.now())
        }
    }
}
