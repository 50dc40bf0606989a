import Database
import Foundation
import Synchronization
import Testing
import TestSupport

/// The money jobs as an operator runs them: `intake jobs run` against the server's database,
/// days ahead by libfaketime, while the server answers through nginx. The server's own jobs
/// thread runs once at start, then waits an hour, so the test's runs are the only ones.
@Suite("Billing jobs through the real binary: renewals, expiry and the over-quota policy with a moved clock, and runs killed half way", .serialized,
       .enabled(if: integrationEnabled, "set INTAKE_INTEGRATION=1 (scripts/test does)"))
struct BillingJobsTests {
    static let day: Int64 = 86400
    static let quietJobs = ["INTAKE_JOBS_INTERVAL": "3600"]

    /// The demo site with an admin signed in and the owner's id.
    func site(_ extra: [String: String] = [:]) throws -> (DemoSite, WebSession, Int64) {
        let site = try DemoSite(extraEnvironment: Self.quietJobs.merging(extra) { _, new in new })
        let admin = site.server.session()
        try signIn(admin, site)
        let ownerID = try #require(try site.db.scalar("SELECT id FROM users WHERE email_normalized = 'owner@example.com'", as: Int64.self))
        return (site, admin, ownerID)
    }

    /// Signs `session` in as the demo admin or the demo user (the portal's owner).
    func signIn(_ session: WebSession, _ site: DemoSite, as who: String = "admin") throws {
        let credentials = try String(contentsOfFile: site.server.home + "/demo-credentials.txt", encoding: .utf8)
        let password = try #require(credentials.split(separator: "\n").first { $0.hasPrefix(who) }?.split(separator: " ").last)
        _ = try session.get("/login")
        _ = try session.post("/login", form: [("email", who == "admin" ? "admin@example.com" : "owner@example.com"), ("password", String(password))])
    }

    /// `intake jobs run` as a process of its own under `faketime` (the package scripts/install-deps
    /// test installs), `seconds` ahead of the real clock. (Preloading libfaketime directly loses
    /// the Swift binary's arguments; the wrapper forks the binary as its child instead.)
    func jobsProcess(_ environment: [String: String], ahead seconds: Int64) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/faketime")
        process.arguments = ["-f", "+\(seconds)", IntakeTestServer.binary, "jobs", "run"]
        process.environment = environment
        return process
    }

    /// Kills a `jobsProcess` at once with SIGKILL: the job under the wrapper first, then the wrapper,
    /// whose shared objects are then removed.
    /// The wrapper is stopped first, so it cannot start the job between the reading of its
    /// children and its death (a job started then would run on, unseen, holding the jobs' lease).
    func killJobs(_ process: Process) {
        let pid = process.processIdentifier
        kill(pid, SIGSTOP)
        for _ in 0..<200 {
            let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
            // The state follows the command's closing parenthesis: T once stopped (Z or gone: it ended).
            guard let state = stat.split(separator: ")").last?.split(separator: " ").first, state == "R" || state == "S" || state == "D" else { break }
            usleep(5_000)
        }
        let children = (try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8)) ?? ""
        for child in children.split(separator: " ").compactMap({ Int32($0) }) { kill(child, SIGKILL) }
        kill(pid, SIGKILL)
        process.waitUntilExit()
        // The wrapper removes its semaphore and shared memory (named by its pid) only when it ends
        // by itself: killed, it leaves them, and a later wrapper given the same pid fails to start
        // ("faketime: sem_open: File exists").
        unlink("/dev/shm/sem.faketime_sem_\(pid)")
        unlink("/dev/shm/faketime_shm_\(pid)")
    }

    /// `intake jobs run` once, `seconds` ahead of the real clock; its output.
    @discardableResult
    func runJobs(_ environment: [String: String], ahead seconds: Int64) throws -> String {
        let process = try jobsProcess(environment, ahead: seconds)
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let output = out.fileHandleForReading.readDataToEndOfFile(), errors = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(String(decoding: errors, as: UTF8.self))")
        return String(decoding: output, as: UTF8.self)
    }

    @discardableResult
    func runJobs(_ site: DemoSite, ahead seconds: Int64) throws -> String { try runJobs(site.server.environment, ahead: seconds) }

    func savePricing(_ admin: WebSession, policy: String, grace: String = "2", validity: String = "30") throws {
        _ = try admin.get("/admin/storage/pricing")
        let saved = try admin.post("/admin/storage/pricing", form: [
            ("price_per_gb", "0.50"), ("currency", "USD"), ("min_gb", "1"), ("max_gb", "100"), ("validity_days", validity),
            ("free_storage_number", "5"), ("free_storage_unit", "GB"), ("over_quota_policy", policy), ("grace_days", grace),
        ])
        #expect(saved.status == 303, "\(saved.text.prefix(300))")
    }

    /// sum(ledger) is the balance, never below zero, and the purchased extra storage is the sum of the active purchases.
    func checkInvariants(_ db: any Database, _ userID: Int64) throws {
        let ledger = try db.scalar("SELECT coalesce(sum(amount_minor), 0) FROM balance_ledger WHERE user_id = $1", [userID], as: Int64.self) ?? -1
        #expect(ledger >= 0)
        let active = try db.scalar("SELECT coalesce(sum(bytes), 0) FROM storage_purchases WHERE user_id = $1 AND expired_at IS NULL", [userID], as: Int64.self)
        #expect(try db.scalar("SELECT purchased_extra_bytes FROM users WHERE id = $1", [userID], as: Int64.self) == active)
    }

    func subjects(_ db: any Database) throws -> [String] {
        try db.query("SELECT subject FROM mail_outbox WHERE to_address = 'owner@example.com' ORDER BY id").map { try $0.get("subject", as: String.self) }
    }

    @Test("a plan given by the admin is charged at once and on its anniversary, a short balance gets grace, then the free storage; a purchase is reminded of and expires; the statement shows each charge")
    func renewalsAndExpiry() throws {
        let (site, admin, owner) = try site()
        defer { site.server.stop() }
        try savePricing(admin, policy: "block")
        _ = try admin.get("/admin/tariffs")
        let created = try admin.post("/admin/tariffs", form: [
            ("name", "Studio"), ("monthly_price", "4.00"), ("storage_number", "20"), ("storage_unit", "GB"),
            ("max_file_number", "1"), ("max_file_unit", "GB"), ("max_portals", "5"), ("active", "1"),
        ])
        #expect(created.status == 303, "\(created.text.prefix(300))")
        let planID = try #require(try site.db.scalar("SELECT id FROM tariff_plans WHERE name = 'Studio'", as: Int64.self))
        _ = try admin.get("/admin/users/\(owner)")
        #expect(try admin.post("/admin/users/\(owner)/balance", form: [("amount", "9.00"), ("direction", "credit"), ("reason", "Top-up")]).status == 303)
        #expect(try admin.post("/admin/users/\(owner)/plan", form: [("plan_id", String(planID))]).status == 303)

        // Bought 2 GB (1.00) valid 30 days.
        let bought = try HTTPClient.request(port: site.server.port, method: "POST", path: "/api/v1/storage/purchase", headers: [
            ("Cookie", "intake_session=\(site.owner.cookies["intake_session"]!)"), ("X-CSRF-Token", site.owner.csrfToken!),
            ("Content-Type", "application/json"), ("Idempotency-Key", "k-1")], body: Array(#"{"gb":2}"#.utf8))
        #expect(bought.status == 201, "\(bought.text)")

        try runJobs(site, ahead: 60)
        try runJobs(site, ahead: 120)
        #expect(try site.db.scalar("SELECT count(*) FROM plan_renewals WHERE status = 'paid'", as: Int.self) == 1, "charged once for two runs")
        #expect(try site.owner.get("/dashboard/storage").text.contains("Your Studio plan renews on "))
        #expect(try admin.get("/admin/users/\(owner)").text.contains("Renews on "))
        let statement = try site.owner.get("/dashboard/billing").text
        #expect(statement.contains("Plan renewal: Studio") && statement.contains("4.00"))
        try checkInvariants(site.db, owner)

        let reminded = try runJobs(site, ahead: 23 * Self.day + 3600)
        let mail = try subjects(site.db)
        #expect(mail.contains("Your extra storage expires in 7 days"), "\(reminded) \(mail)")
        // The anniversary (28 to 31 days on): 4.00 charged again, 0.00 left.
        try runJobs(site, ahead: 31 * Self.day + 3600)
        #expect(try site.db.scalar("SELECT count(*) FROM plan_renewals WHERE status = 'paid'", as: Int.self) == 2)
        #expect(try site.db.scalar("SELECT sum(amount_minor) FROM balance_ledger WHERE user_id = $1", [owner], as: Int64.self) == 0)
        #expect(try site.db.scalar("SELECT count(*) FROM storage_purchases WHERE expired_at IS NOT NULL", as: Int.self) == 1)
        #expect(try subjects(site.db).contains("Your extra storage has expired"))
        // (The sessions expired in the jobs' future, so the database is asked.)
        #expect(try site.db.scalar("SELECT quota_bytes FROM users WHERE id = $1", [owner], as: Int64.self) == 20_000_000_000)
        try checkInvariants(site.db, owner)

        // The next anniversary finds nothing: grace (the pricing has none under block, so seven days), then the free storage.
        try runJobs(site, ahead: 63 * Self.day)
        #expect(try subjects(site.db).last == "We could not renew your Studio plan")
        #expect(try site.db.scalar("SELECT plan_id FROM users WHERE id = $1", [owner], as: Int64.self) == planID)
        let user = site.server.session()
        try signIn(user, site, as: "user")
        #expect(try user.get("/dashboard/storage").text.contains("renewal of your Studio plan is unpaid"))
        try runJobs(site, ahead: 71 * Self.day)
        #expect(try site.db.scalar("SELECT plan_id IS NULL FROM users WHERE id = $1", [owner], as: Bool.self) == true)
        #expect(try subjects(site.db).last == "Your Studio plan has ended")
        #expect(try site.db.scalar("SELECT count(*) FROM audit_log WHERE action = 'plan.lapsed'", as: Int.self) == 1)
        try checkInvariants(site.db, owner)
    }

    /// Uploads `count` files of `size` bytes to the demo portal, one after another (so oldest is lowest id).
    func upload(_ site: DemoSite, count: Int, size: Int) throws -> [[UInt8]] {
        var sent: [[UInt8]] = []
        for i in 0..<count {
            let bytes = Array("%PDF-1.7\n".utf8) + (9..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ i) }
            let answer = try site.upload([("file\(i).pdf", bytes)])
            #expect(answer.status == 200, "\(answer.text)")
            sent.append(bytes)
        }
        return sent
    }

    @Test("delete_oldest on local disk: mailed at once, nothing touched within the grace days, then the oldest files go (disk first) until within quota, never the young ones; block touches nothing and the portal says why")
    func deleteOldestLocal() throws {
        let (site, admin, owner) = try site()
        defer { site.server.stop() }
        try savePricing(admin, policy: "delete_oldest", grace: "2")
        _ = try upload(site, count: 6, size: 200_000)
        // The two newest arrived "a day later": younger than the grace days when the policy acts.
        try site.db.execute("UPDATE file_uploads SET created_at = created_at + 86400 WHERE id IN (SELECT id FROM file_uploads ORDER BY id DESC LIMIT 2)")
        let storageDir = site.server.home + "/storage"
        #expect(IntakeTestServer.files(under: storageDir).count == 6)
        try site.db.execute("UPDATE users SET quota_override_bytes = 300000 WHERE id = $1", [owner])  // 1.2 MB stored: 900 kB over

        #expect(try site.server.session().get("/p/demo").text.contains("storage is full"))
        try runJobs(site, ahead: 60)
        #expect(try subjects(site.db).filter { $0 == "Your storage is over its quota" }.count == 1)
        let notice = try site.owner.get("/dashboard/storage").text
        #expect(notice.contains("If you are still over it on ") && notice.contains("your oldest files will be deleted"), "\(notice.prefix(2000))")
        try runJobs(site, ahead: Self.day)
        #expect(try site.db.scalar("SELECT count(*) FROM file_uploads", as: Int.self) == 6, "nothing deleted within the grace days")
        #expect(try subjects(site.db).filter { $0 == "Your storage is over its quota" }.count == 1, "told once")

        try runJobs(site, ahead: 2 * Self.day + 3600)
        let left = try site.db.query("SELECT id FROM file_uploads ORDER BY id").map { try $0.get("id", as: Int64.self) }
        #expect(left == [5, 6], "the four old ones freed 800 kB; the young two may not go yet, so 100 kB over remains")
        #expect(try site.db.scalar("SELECT storage_used_bytes FROM users WHERE id = $1", [owner], as: Int64.self) == 400_000)
        #expect(IntakeTestServer.files(under: storageDir).count == 2, "the disk copies went with the rows")
        #expect(try site.db.scalar("SELECT count(*) FROM audit_log WHERE action = 'file_upload.delete' AND actor_id IS NULL", as: Int.self) == 4)
        #expect(try subjects(site.db).last == "Files deleted to bring your storage within its quota")

        // A day on, the young ones are old enough: one of them (200 kB) brings it within 300 kB.
        try runJobs(site, ahead: 3 * Self.day + 7200)
        let remaining = try site.db.query("SELECT id FROM file_uploads ORDER BY id").map { try $0.get("id", as: Int64.self) }
        #expect(remaining == [6], "exactly as many as needed, oldest first")
        #expect(try site.db.scalar("SELECT over_quota_since IS NULL FROM users WHERE id = $1", [owner], as: Bool.self) == false)
        try runJobs(site, ahead: 3 * Self.day + 7300)
        #expect(try site.db.scalar("SELECT over_quota_since IS NULL FROM users WHERE id = $1", [owner], as: Bool.self) == true, "within quota again")
        #expect(IntakeTestServer.files(under: storageDir).count == 1)

        // Under block nothing stored is touched, however long it stays over. (The admin signs in
        // again: the jobs' future expired every session.)
        try signIn(admin, site)
        try savePricing(admin, policy: "block")
        try site.db.execute("UPDATE users SET quota_override_bytes = 1000 WHERE id = $1", [owner])
        try runJobs(site, ahead: 30 * Self.day)
        #expect(try site.db.scalar("SELECT count(*) FROM file_uploads", as: Int.self) == 1)
        let refused = try site.upload([("more.pdf", Array("%PDF-1.7\n".utf8))])
        #expect(refused.status == 413 && refused.text.contains("storage is full"), "\(refused.text)")
    }

    @Test("delete_oldest with files in the fake Google Drive: the Drive copies are deleted through its API, the rows and usage follow, audited")
    func deleteOldestDrive() throws {
        let (server, google, owner, drive) = try CloudUploadTests().connectedDrive()
        defer { server.stop(); google.stop(); drive.stop() }
        let db = try server.openDatabase()
        let visitor = try CloudUploadTests.Visitor(server)
        for i in 0..<3 {
            let sent = try visitor.upload("doc\(i).pdf", Array("%PDF-1.7\n".utf8) + [UInt8](repeating: UInt8(i), count: 100_000))
            #expect(sent.status == 200, "\(sent.text)")
        }
        #expect(drive.items.filter { !$0.mimeType.contains("folder") }.count == 3)
        try db.execute("""
            INSERT INTO storage_pricing_versions (price_per_gb_minor, currency, min_gb, max_gb, validity_days, free_storage_bytes, over_quota_policy, grace_days, created_at)
            VALUES (50, 'USD', 1, 100, 30, 5000000000, 'delete_oldest', 1, 0)
            """)
        try db.execute("UPDATE users SET quota_override_bytes = 150000 WHERE email_normalized = 'owner@example.com'")
        _ = owner
        try runJobs(server.environment, ahead: 60)
        try runJobs(server.environment, ahead: Self.day + 3600)
        let left = try db.query("SELECT file_name FROM file_uploads ORDER BY id").map { try $0.get("file_name", as: String.self) }
        #expect(left == ["doc2.pdf"], "two of 100 kB over a 150 kB quota: the two oldest go")
        let files = drive.items.filter { !$0.mimeType.contains("folder") }
        #expect(files.map(\.name) == ["doc2.pdf"], "\(files.map(\.name))")
        #expect(try db.scalar("SELECT storage_used_bytes FROM users WHERE email_normalized = 'owner@example.com'", as: Int64.self) == 100_009)
        #expect(try db.scalar("SELECT count(*) FROM audit_log WHERE action = 'file_upload.delete' AND before_json LIKE '%\"deleted_from_cloud\":\"true\"%'",
                              as: Int.self) == 2)
    }

    @Test("jobs killed with SIGKILL at random points and run again: every due plan charged exactly once, every file deleted once, the usage exact")
    func killedMidRun() throws {
        let (site, admin, _) = try site()
        defer { site.server.stop() }
        try savePricing(admin, policy: "delete_oldest", grace: "1")
        let db = site.db
        // 1,500 users on a 1.00 plan with 1.50 each, due a day from now (three passes' worth: a pass takes 500).
        let payers = 1500
        try db.execute("""
            INSERT INTO tariff_plans (name, monthly_price_minor, currency, storage_bytes, max_file_bytes, max_portals, created_at, updated_at)
            VALUES ('Basic', 100, 'USD', 10000000000, 1000000000, 3, 0, 0)
            """)
        let planID = try #require(try db.scalar("SELECT id FROM tariff_plans WHERE name = 'Basic'", as: Int64.self))
        let due = Int64(Date().timeIntervalSince1970) + Self.day
        try db.write {
            for i in 0..<payers {
                let id = try db.scalar("""
                    INSERT INTO users (email, email_normalized, name, password_hash, role, created_at, updated_at, plan_id, plan_anchor_at, plan_renews_at)
                    VALUES ($1, $1, 'Payer', 'x', 'user', 0, 0, $2, $3, $3) RETURNING id
                    """, ["payer\(i)@example.com", planID, due], as: Int64.self)!
                try db.execute("INSERT INTO balance_ledger (user_id, amount_minor, currency, reason, created_at) VALUES ($1, 150, 'USD', 'Top-up', 0)", [id])
            }
        }
        // The owner 3 MB over with 30 files of 200 kB.
        _ = try upload(site, count: 30, size: 200_000)
        try db.execute("UPDATE users SET quota_override_bytes = 3000000 WHERE email_normalized = 'owner@example.com'")
        try runJobs(site, ahead: 60)   // marks the owner over quota; nothing is due yet
        #expect(try db.scalar("SELECT count(*) FROM plan_renewals", as: Int.self) == 0)

        // Killed at times spread over a pass, until some run was caught with part of its work done.
        var partial = false
        for delay in [0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.7, 0.9, 1.2, 0.25, 0.35, 0.45, 0.6, 0.8] {
            let process = try jobsProcess(site.server.environment, ahead: 2 * Self.day)
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            let before = try db.scalar("SELECT count(*) FROM plan_renewals", as: Int.self) ?? 0
            try process.run()
            Thread.sleep(forTimeInterval: delay)
            killJobs(process)
            let charged = try db.scalar("SELECT count(*) FROM plan_renewals", as: Int.self) ?? 0
            if charged > before && charged % 500 != 0 { partial = true }
            if charged == payers { break }
        }
        var outputs: [String] = []
        for _ in 0..<4 { outputs.append(try runJobs(site, ahead: 2 * Self.day)) }
        #expect(partial, "at least one run was killed half way through its pass")
        let leases = try db.query("SELECT name, holder, expires_at FROM job_leases").map {
            "\(try $0.get("name", as: String.self)) \(try $0.get("holder", as: String.self)) \(try $0.get("expires_at", as: Int64.self))"
        }
        #expect(try db.scalar("SELECT count(*) FROM plan_renewals WHERE status = 'paid'", as: Int.self) == payers,
                "leases: \(leases); now \(Int64(Date().timeIntervalSince1970)); the runs said: \(outputs.joined(separator: " | "))")
        #expect(try db.scalar("SELECT count(*) FROM balance_ledger WHERE reference LIKE 'renewal:%'", as: Int.self) == payers, "one charge each")
        #expect(try db.scalar("SELECT count(*) FROM (SELECT user_id FROM balance_ledger GROUP BY user_id HAVING sum(amount_minor) != 50) x",
                              as: Int.self) == 0, "every payer has 0.50 left")
        let files = try db.scalar("SELECT count(*) FROM file_uploads", as: Int.self) ?? -1
        #expect(files == 15, "3 MB over at 200 kB a file: exactly 15 deleted")
        #expect(try db.scalar("SELECT count(*) FROM audit_log WHERE action = 'file_upload.delete'", as: Int.self) == 15, "each deleted once")
        let used = try db.scalar("SELECT storage_used_bytes FROM users WHERE email_normalized = 'owner@example.com'", as: Int64.self)
        let stored = try db.scalar("SELECT sum(size_bytes) FROM file_uploads", as: Int64.self)
        #expect(used == 3_000_000 && stored == used)
        #expect(IntakeTestServer.files(under: site.server.home + "/storage").count == 15)
    }
}
