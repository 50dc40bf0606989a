import Database
import Foundation
import Testing
import TestSupport

/// The operator's commands as an operator runs them: the real binary against the server's
/// database (and fake providers), each problem prepared by hand, then the report, the dry run
/// changing nothing and the repair fixing exactly that.
extension IntakeTestServer.Outcome {
    func json() throws -> [String: Any] {
        guard let object = try? JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any] else {
            throw LaunchError("not a JSON object: \(output) (exit \(status), errors: \(errors))")
        }
        return object
    }

    /// The findings of a `diagnose --json` answer, as (check, verdict, found, cure).
    func findings() throws -> [(check: String, verdict: String, found: String, cure: String)] {
        let list = try #require(try json()["findings"] as? [[String: Any]])
        return list.map { ($0["check"] as? String ?? "", $0["verdict"] as? String ?? "", $0["found"] as? String ?? "", $0["cure"] as? String ?? "") }
    }
}

@Suite("Operator tools: intake diagnose, fix-accounts, cleanup-zombies, migrate-accounts, recount", .serialized,
       .enabled(if: integrationEnabled, "set INTAKE_INTEGRATION=1 (scripts/test does)"))
struct OperatorToolsTests {
    static let quietJobs = ["INTAKE_JOBS_INTERVAL": "3600"]

    static func intake(_ arguments: [String], _ server: IntakeTestServer) throws -> IntakeTestServer.Outcome {
        try server.intake(arguments)
    }

    /// Every row of the tables a command could touch, so "changed nothing" is checked, not assumed.
    static func snapshot(_ db: any Database) throws -> String {
        var text = ""
        for table in ["users", "oauth_accounts", "storage_accounts", "portals", "file_uploads", "sessions", "upload_reservations", "oauth_states", "audit_log"] {
            for row in try db.query("SELECT * FROM \(table) ORDER BY 1") {
                text += table + ": " + row.columns.map { "\($0)=\(String(describing: try? row.get($0, as: String?.self)))" }.joined(separator: ",") + "\n"
            }
        }
        return text
    }

    /// A process id that is certainly gone: a child that has exited and been reaped.
    static func deadPID() throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/true")
        try process.run()
        process.waitUntilExit()
        return process.processIdentifier
    }

    static var hostName: String {
        ((try? String(contentsOfFile: "/proc/sys/kernel/hostname", encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test("diagnose asks the provider about the grant: valid → ok (exit 0); revoked at Google → the account, its portal and its files reported with cures (exit 2); unknown names exit 64")
    func diagnoseWithTheProvider() throws {
        let fake = try FakeOAuthServer(kind: .google)
        defer { fake.stop() }
        let server = try IntakeTestServer(extraEnvironment: StorageConnectTests.environment(fake).merging(Self.quietJobs) { _, new in new })
        defer { server.stop() }
        try server.createUser(email: "owner@example.com", name: "Olive")
        let browser = server.session()
        try browser.get("/login")
        try browser.post("/login", form: [("email", "owner@example.com"), ("password", "correct horse battery")])
        #expect(try browser.get(try StorageConnectTests().consent(browser, fake)).status == 303)
        let db = try server.openDatabase()
        try db.execute("INSERT INTO portals (user_id, name, slug, storage_account_id, created_at, updated_at) SELECT user_id, 'Taxes', 'taxes', id, 0, 0 FROM storage_accounts")

        let healthy = try Self.intake(["diagnose", "--user", "owner@example.com", "--json"], server)
        #expect(healthy.status == 0, "\(healthy.output) \(healthy.errors)")
        let healthyFindings = try healthy.findings()
        #expect(healthyFindings.contains { $0.check == "grants" && $0.verdict == "ok" && $0.found.contains("token call succeeded") })
        #expect(healthyFindings.contains { $0.check == "portals" && $0.verdict == "ok" && $0.found.contains("Takes uploads") })
        #expect(try healthy.json()["verdict"] as? String == "ok")

        fake.revoke(accountID: "acct-1")
        let revoked = try Self.intake(["diagnose", "--user", "owner@example.com", "--json"], server)
        #expect(revoked.status == 2, "\(revoked.output) \(revoked.errors)")
        let findings = try revoked.findings()
        #expect(findings.contains { $0.check == "grants" && $0.verdict == "problem" && $0.found.contains("invalid_grant") && $0.cure.contains("Connect Google Drive again") })
        // Asking recorded what the provider said, as any request would: the account is disconnected, its portal off.
        #expect(try db.scalar("SELECT status FROM storage_accounts", as: String.self) == "DISCONNECTED")
        let portal = try Self.intake(["diagnose", "--portal", "taxes"], server)
        #expect(portal.status == 2)
        #expect(portal.output.contains("Diagnosis of portal taxes: PROBLEM"))
        #expect(portal.output.contains("PROBLEM  portals: portal taxes (Taxes): Does not take uploads"))
        #expect(portal.output.contains("cure: Its owner reconnects it: Connect Google Drive again on the Storage page"))

        #expect(try Self.intake(["diagnose", "--user", "nobody@example.com"], server).status == 64)
        #expect(try Self.intake(["diagnose", "--portal", "nope"], server).status == 64)
        #expect(try Self.intake(["diagnose", "--file", "999"], server).status == 64)
        #expect(try Self.intake(["diagnose"], server).status == 64, "one of --user, --portal, --file is required")
        #expect(try Self.intake(["diagnose", "--user", "a@b.c", "--portal", "x"], server).status == 64)
    }

    @Test("fix-accounts: an OAuth account with storage access but no storage account is found by diagnose, listed by --dry-run (nothing changes), created once")
    func fixAccounts() throws {
        let site = try DemoSite(extraEnvironment: Self.quietJobs)
        defer { site.server.stop() }
        let db = site.db
        let ownerID = try #require(try db.scalar("SELECT id FROM users WHERE email_normalized = 'owner@example.com'", as: Int64.self))
        try db.execute("""
            INSERT INTO oauth_accounts (user_id, provider, provider_account_id, email, scopes, created_at, updated_at)
            VALUES ($1, 'google', 'g-77', 'olive@gmail.example', 'openid email https://www.googleapis.com/auth/drive.file', 0, 0)
            """, [ownerID])
        let diagnosed = try Self.intake(["diagnose", "--user", "owner@example.com", "--offline", "--json"], site.server)
        #expect(diagnosed.status == 2)
        #expect(try diagnosed.findings().contains {
            $0.check == "storage_accounts" && $0.verdict == "problem" && $0.found.contains("no storage account was created") && $0.cure.contains("intake fix-accounts --user owner@example.com")
        })

        let before = try Self.snapshot(db)
        let dry = try Self.intake(["fix-accounts", "--dry-run", "--json"], site.server)
        #expect(dry.status == 1, "\(dry.output) \(dry.errors)")
        let wouldCreate = try #require(try dry.json()["would_create"] as? [[String: Any]])
        #expect(wouldCreate.count == 1 && wouldCreate[0]["providerAccountID"] as? String == "g-77")
        #expect(try Self.snapshot(db) == before, "a dry run changes nothing")

        let fixed = try Self.intake(["fix-accounts", "--user", "owner@example.com"], site.server)
        #expect(fixed.status == 0, "\(fixed.output) \(fixed.errors)")
        #expect(fixed.output.contains("owner@example.com: 1 created, 0 reactivated, 0 validated, 0 error(s)"))
        #expect(try db.scalar("SELECT status FROM storage_accounts WHERE provider_account_id = 'g-77'", as: String.self) == "ACTIVE")
        #expect(try db.scalar("SELECT count(*) FROM storage_accounts", as: Int.self) == 2, "the demo's local disk and the new one, nothing else")
        let again = try Self.intake(["fix-accounts", "--json"], site.server)
        #expect(again.status == 0)
        #expect(again.output.contains("\"created\" : 0") && again.output.contains("\"validated\" : 1"))
        #expect(try Self.intake(["fix-accounts", "--user", "nobody@example.com"], site.server).status == 64)
    }

    @Test("cleanup-zombies lists exactly what is left behind (exit 1, nothing changed), --apply removes exactly that, a second run finds nothing")
    func cleanupZombies() throws {
        let site = try DemoSite(extraEnvironment: Self.quietJobs)
        defer { site.server.stop() }
        // The commands run with the site's server down, as an operator may run them: a running
        // worker's delivery thread drops a dead process's reservation itself within a second,
        // which raced with the listing below (and failed it on a slow machine).
        site.server.killHost(0)
        let db = site.db
        let ownerID = try #require(try db.scalar("SELECT id FROM users WHERE email_normalized = 'owner@example.com'", as: Int64.self))
        let now = Int64(Date().timeIntervalSince1970)
        let dead = "\(Self.hostName):\(try Self.deadPID()):abc"
        // Zombies: a sign-in-only OAuth account; a revoked grant whose tokens are kept; an expired
        // session; a reservation that expired and one held by a dead process; a delivery lease of a dead process.
        try db.execute("INSERT INTO oauth_accounts (user_id, provider, provider_account_id, scopes, created_at, updated_at) VALUES ($1, 'google', 'signin-only', 'openid email', 0, 0)", [ownerID])
        try db.execute("""
            INSERT INTO oauth_accounts (user_id, provider, provider_account_id, scopes, refresh_token_sealed, created_at, updated_at)
            VALUES ($1, 'dropbox', 'dbx-9', 'files.content.write', $2, 0, 0)
            """, [ownerID, [UInt8]([0x00, 0x11, 0x22, 0x33])])
        try db.execute("""
            INSERT INTO storage_accounts (user_id, provider, provider_account_id, display_name, status, created_at, updated_at)
            VALUES ($1, 'dropbox', 'dbx-9', 'Dropbox', 'DISCONNECTED', 0, 0)
            """, [ownerID])
        try db.execute("INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, last_seen_at, expires_at) VALUES ($2, $1, 't', 0, 0, 1)", [ownerID, [UInt8]([1])])
        try db.execute("INSERT INTO upload_reservations (user_id, bytes, created_at, expires_at) VALUES ($1, 100, 0, 1)", [ownerID])
        try db.execute("INSERT INTO upload_reservations (user_id, bytes, created_at, expires_at, holder) VALUES ($1, 200, $2, $3, $4)", [ownerID, now, now + 3600, dead])
        let portalID = try #require(try db.scalar("SELECT id FROM portals WHERE slug = 'demo'", as: Int64.self))
        try db.execute("""
            INSERT INTO file_uploads (portal_id, user_id, storage_account_id, file_name, size_bytes, status, next_attempt_at, lease_holder, lease_expires, created_at, updated_at)
            VALUES ($1, $2, 1, 'stuck.pdf', 10, 'delivering', $3, $4, $3, $5, $5)
            """, [portalID, ownerID, now + 86400, dead, now])
        // Not zombies: a live session, a live reservation of a live process, the connected local disk.
        try db.execute("INSERT INTO upload_reservations (user_id, bytes, created_at, expires_at, holder) VALUES ($1, 300, $2, $3, $4)",
                       [ownerID, now, now + 3600, "\(Self.hostName):\(getpid()):live"])
        let liveSessions = try #require(try db.scalar("SELECT count(*) FROM sessions WHERE expires_at > $1", [now], as: Int.self))

        let diagnosed = try Self.intake(["diagnose", "--user", "owner@example.com", "--offline", "--json"], site.server)
        let findings = try diagnosed.findings()
        #expect(findings.contains { $0.check == "leases" && $0.found.contains("1 delivery lease(s)") && $0.cure.contains("cleanup-zombies --apply") })
        #expect(findings.contains { $0.check == "reservations" && $0.found.contains("2 reservation(s)") })

        let before = try Self.snapshot(db)
        let listed = try Self.intake(["cleanup-zombies", "--json"], site.server)
        #expect(listed.status == 1, "\(listed.output) \(listed.errors)")
        let report = try listed.json()
        #expect((report["unusedOAuthAccounts"] as? [[String: Any]])?.map { $0["provider"] as? String } == ["google"])
        #expect((report["revokedGrantsKept"] as? [[String: Any]])?.map { $0["provider"] as? String } == ["dropbox"])
        #expect(report["expiredSessions"] as? Int == 1)
        #expect((report["staleReservations"] as? [[String: Any]])?.compactMap { $0["bytes"] as? Int }.sorted() == [100, 200])
        #expect((report["staleDeliveryLeases"] as? [Int])?.count == 1)
        #expect(try Self.snapshot(db) == before, "listing changes nothing")
        #expect(try Self.intake(["cleanup-zombies", "--apply", "--dry-run"], site.server).status == 64)

        let applied = try Self.intake(["cleanup-zombies", "--apply"], site.server)
        #expect(applied.status == 0, "\(applied.output) \(applied.errors)")
        #expect(applied.output.contains("removed: 1 unused OAuth account(s), 1 revoked grant(s) with tokens kept, 1 expired session(s)"))
        #expect(try db.scalar("SELECT count(*) FROM oauth_accounts WHERE provider_account_id = 'signin-only'", as: Int.self) == 0)
        #expect(try db.scalar("SELECT refresh_token_sealed IS NULL FROM oauth_accounts WHERE provider_account_id = 'dbx-9'", as: Bool.self) == true,
                "the OAuth account stays (reconnecting finds it); only the refused tokens go")
        #expect(try db.query("SELECT bytes FROM upload_reservations").map { try $0.get("bytes", as: Int64.self) } == [300])
        #expect(try db.scalar("SELECT count(*) FROM sessions WHERE expires_at > $1", [now], as: Int.self) == liveSessions)
        #expect(try db.scalar("SELECT count(*) FROM sessions WHERE expires_at <= $1", [now], as: Int.self) == 0)
        #expect(try db.scalar("SELECT lease_holder IS NULL AND status = 'delivering' FROM file_uploads WHERE file_name = 'stuck.pdf'", as: Bool.self) == true)
        #expect(try db.scalar("SELECT count(*) FROM audit_log WHERE action IN ('oauth_account.removed', 'oauth_account.tokens_forgotten') AND remote_address = 'intake cleanup-zombies'",
                              as: Int.self) == 2)
        let again = try Self.intake(["cleanup-zombies"], site.server)
        #expect(again.status == 0 && again.output.contains("found: 0 unused OAuth account(s), 0 revoked grant(s)"), "\(again.output)")
    }

    @Test("migrate-accounts binds a legacy portal and its files by the upload rules (dry run first, audited, idempotent); an owner with no active account is reported, exit 2")
    func migrateAccounts() throws {
        let site = try DemoSite(extraEnvironment: Self.quietJobs)
        defer { site.server.stop() }
        let db = site.db
        let ownerID = try #require(try db.scalar("SELECT id FROM users WHERE email_normalized = 'owner@example.com'", as: Int64.self))
        let localID = try #require(try db.scalar("SELECT id FROM storage_accounts WHERE user_id = $1", [ownerID], as: Int64.self))
        try db.execute("INSERT INTO portals (user_id, name, slug, created_at, updated_at) VALUES ($1, 'Legacy', 'legacy', 0, 0)", [ownerID])
        let legacyID = try #require(try db.scalar("SELECT id FROM portals WHERE slug = 'legacy'", as: Int64.self))
        try db.execute("""
            INSERT INTO file_uploads (portal_id, user_id, file_name, size_bytes, status, provider_path, created_at, updated_at)
            VALUES ($1, $2, 'old-1.pdf', 1000, 'uploaded', 'x/old-1.pdf', 0, 0), ($1, $2, 'old-2.pdf', 2000, 'uploaded', 'x/old-2.pdf', 0, 0)
            """, [legacyID, ownerID])

        // The rows were written by hand, so the owner's usage counter does not know of them yet:
        // diagnose compares it with the files and names the cure, which fixes it.
        let miscounted = try Self.intake(["diagnose", "--user", "owner@example.com", "--offline", "--json"], site.server)
        #expect(miscounted.status == 2)
        #expect(try miscounted.findings().contains {
            $0.check == "usage" && $0.verdict == "problem" && $0.found == "The counter says 0, the files add up to 3000."
                && $0.cure.contains("intake reconcile --user owner@example.com --repair")
        })
        #expect(try Self.intake(["reconcile", "--user", "owner@example.com", "--repair"], site.server).status == 0)
        #expect(try db.scalar("SELECT storage_used_bytes FROM users WHERE id = $1", [ownerID], as: Int64.self) == 3000)

        let diagnosed = try Self.intake(["diagnose", "--user", "owner@example.com", "--offline", "--json"], site.server)
        #expect(diagnosed.status == 1, "warnings only: \(diagnosed.output)")
        let findings = try diagnosed.findings()
        #expect(findings.contains { $0.check == "files" && $0.found.contains("2 stored file(s) name no storage account") && $0.cure.contains("intake migrate-accounts") })
        #expect(findings.contains { $0.check == "portals" && $0.verdict == "warning" && $0.found.contains("no storage account of its own") })

        let before = try Self.snapshot(db)
        let dry = try Self.intake(["migrate-accounts", "--dry-run"], site.server)
        #expect(dry.status == 1)
        #expect(dry.output.contains("would bind 1 portal(s) and 2 file(s); 0 cannot be bound"), "\(dry.output)")
        #expect(try Self.snapshot(db) == before)

        let migrated = try Self.intake(["migrate-accounts", "--json"], site.server)
        #expect(migrated.status == 0, "\(migrated.output) \(migrated.errors)")
        #expect(try db.scalar("SELECT storage_account_id FROM portals WHERE slug = 'legacy'", as: Int64.self) == localID)
        #expect(try db.scalar("SELECT count(*) FROM file_uploads WHERE portal_id = $1 AND storage_account_id = $2", [legacyID, localID], as: Int.self) == 2)
        #expect(try db.scalar("SELECT uploaded_files FROM storage_accounts WHERE id = $1", [localID], as: Int.self) == 2, "the account's kept counts follow the binding")
        #expect(try db.scalar("SELECT count(*) FROM audit_log WHERE action = 'portal.storage_bound'", as: Int.self) == 1)
        #expect(try db.scalar("SELECT count(*) FROM audit_log WHERE action = 'file.storage_bound'", as: Int.self) == 2)
        let again = try Self.intake(["migrate-accounts"], site.server)
        #expect(again.status == 0 && again.output.contains("bound 0 portal(s) and 0 file(s)"), "\(again.output)")

        // A file whose id shows it is a Dropbox file, on the (now local-disk) legacy portal: the
        // owner has no Dropbox account, so it is not bound to the wrong storage for good.
        try db.execute("""
            INSERT INTO file_uploads (portal_id, user_id, file_name, size_bytes, status, provider_file_id, created_at, updated_at)
            VALUES ($1, $2, 'elsewhere.pdf', 0, 'uploaded', 'id:AbC123', 0, 0)
            """, [legacyID, ownerID])
        let elsewhere = try Self.intake(["migrate-accounts"], site.server)
        #expect(elsewhere.status == 2)
        #expect(elsewhere.output.contains("its id is a Dropbox file's, and the owner has no Dropbox storage account"), "\(elsewhere.output)")
        #expect(try db.scalar("SELECT storage_account_id IS NULL FROM file_uploads WHERE file_name = 'elsewhere.pdf'", as: Bool.self) == true)
        try db.execute("DELETE FROM file_uploads WHERE file_name = 'elsewhere.pdf'")

        // An owner with no active account: nothing can be chosen, so nothing is bound.
        try site.server.createUser(email: "lone@example.com", name: "Lone")
        try db.execute("INSERT INTO portals (user_id, name, slug, created_at, updated_at) SELECT id, 'Lone', 'lone', 0, 0 FROM users WHERE email_normalized = 'lone@example.com'")
        let unbound = try Self.intake(["migrate-accounts"], site.server)
        #expect(unbound.status == 2)
        #expect(unbound.output.contains("cannot bind portal") && unbound.output.contains("lone@example.com: the owner has no active storage account"))
        #expect(try db.scalar("SELECT storage_account_id IS NULL FROM portals WHERE slug = 'lone'", as: Bool.self) == true)
    }

    @Test("recount lists the kept counts that disagree with the files (exit 1, nothing changed), --apply rebuilds them, a second run finds them in agreement")
    func recount() throws {
        let site = try DemoSite(extraEnvironment: Self.quietJobs)
        defer { site.server.stop() }
        let db = site.db
        let ownerID = try #require(try db.scalar("SELECT id FROM users WHERE email_normalized = 'owner@example.com'", as: Int64.self))
        let portal = try #require(try db.queryOne("SELECT id, storage_account_id FROM portals WHERE slug = 'demo'"))
        let now = Int64(Date().timeIntervalSince1970)
        for (name, status) in [("a.pdf", "uploaded"), ("b.docx", "uploaded"), ("c.png", "failed")] {
            try db.execute("""
                INSERT INTO file_uploads (portal_id, user_id, storage_account_id, file_name, size_bytes, client_email, status, created_at, updated_at)
                VALUES ($1, $2, $3, $4, 1000, 'ada@clients.example', $5, $6, $6)
                """, [try portal.get("id", as: Int64.self), ownerID, try portal.get("storage_account_id", as: Int64.self), name, status, now])
        }
        try db.execute("UPDATE users SET storage_used_bytes = 3000 WHERE id = $1", [ownerID])
        let agreed = try Self.intake(["recount"], site.server)
        #expect(agreed.status == 0 && agreed.output.contains("3 file(s): every kept count agrees with them"), "\(agreed.output) \(agreed.errors)")

        // What a hand edit leaves: a portal's count and a type rollup off.
        try db.execute("UPDATE portals SET uploaded_files = 99 WHERE slug = 'demo'")
        try db.execute("DELETE FROM upload_types WHERE extension = 'pdf'")
        let before = try Self.snapshot(db)
        let listed = try Self.intake(["recount", "--json"], site.server)
        #expect(listed.status == 1, "\(listed.output) \(listed.errors)")
        let differences = try #require(try listed.json()["differences"] as? [[String: Any]])
        #expect(differences.map { "\($0["count"] ?? "")=\($0["rows"] ?? "")" } == ["portals' delivered files=1", "stored files by type=1"])
        #expect(try Self.snapshot(db) == before, "listing changes nothing")
        #expect(try Self.intake(["recount", "--apply", "--dry-run"], site.server).status == 64)

        let applied = try Self.intake(["recount", "--apply"], site.server)
        #expect(applied.status == 0 && applied.output.contains("rebuilt every kept count from 3 file(s)"), "\(applied.output) \(applied.errors)")
        #expect(try db.scalar("SELECT uploaded_files FROM portals WHERE slug = 'demo'", as: Int64.self) == 2)
        #expect(try db.scalar("SELECT files FROM upload_types WHERE extension = 'pdf'", as: Int64.self) == 1)
        #expect(try db.scalar("SELECT count(*) FROM audit_log WHERE action = 'counts.rebuilt' AND remote_address = 'intake recount'", as: Int.self) == 1)
        let again = try Self.intake(["recount"], site.server)
        #expect(again.status == 0 && again.output.contains("every kept count agrees"), "\(again.output)")
    }
}
