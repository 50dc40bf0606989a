import Curl
import Database
import Foundation
import Integrations
import Spool
@testable import Intake
import Synchronization
import Testing
import TestSupport

/// A health check the test scripts: each account answers what the test last said (reachable by
/// default), and every question is recorded.
final class ScriptedProbe: Sendable {
    private let answers = Mutex<[Int64: HealthProbe]>([:])
    private let asked = Mutex<[Int64]>([])

    func answer(_ id: Int64, _ probe: HealthProbe) { answers.withLock { $0[id] = probe } }
    /// The accounts asked since the last call, in order.
    func takeAsked() -> [Int64] { asked.withLock { a in defer { a = [] }; return a } }

    var check: StorageHealthChecks.Check {
        { account, _ in
            self.asked.withLock { $0.append(account.id) }
            return self.answers.withLock { $0[account.id] } ?? .reachable
        }
    }
}

@Suite("Storage health checks: backoff, due accounts, state changes through the one function, one mail per incident", .serialized)
struct StorageHealthChecksTests {
    let system = AuditLog.Actor(userID: nil, remoteAddress: "")
    static let start: Int64 = 1_800_000_000

    /// An owner and a storage account of `provider`, with two portals on it: `p` (active) and
    /// `off` (switched off by its owner).
    func account(_ db: Database, _ clock: EpochClock, _ provider: StorageProviderKind = .googleDrive, id: String = "acct-1",
                 owner: Int64? = nil) throws -> StorageAccount {
        let userID: Int64
        if let owner {
            userID = owner
        } else {
            userID = try db.scalar("""
                INSERT INTO users (email, email_normalized, name, password_hash, role, created_at, updated_at)
                VALUES ('owner@example.com', 'owner@example.com', 'Olive', 'x', 'user', 0, 0) RETURNING id
                """, as: Int64.self)!
        }
        let account = try StorageAccountStore(db: db, clock: clock).createOrGet(
            userID: userID, provider: provider, providerAccountID: id, email: "owner@example.com", displayName: provider.displayName, by: system).account
        try db.execute("""
            INSERT INTO portals (user_id, name, slug, storage_account_id, active, created_at, updated_at)
            VALUES ($1, 'P', 'p-' || $2, $2, 1, 0, 0), ($1, 'Off', 'off-' || $2, $2, 0, 0, 0)
            """, [userID, account.id])
        return account
    }

    func move(_ db: Database, _ clock: EpochClock, _ id: Int64, _ event: StorageAccountEvent, _ reason: String? = "test") throws {
        try StorageAccountStore(db: db, clock: clock).handleStatusChange(accountID: id, event: event, reason: reason, by: system)
    }

    func status(_ db: Database, _ id: Int64) throws -> String? {
        try db.scalar("SELECT status FROM storage_accounts WHERE id = $1", [id], as: String.self)
    }

    func portals(_ db: Database, _ id: Int64) throws -> (p: Int?, off: Int?) {
        (try db.scalar("SELECT active FROM portals WHERE slug = 'p-' || $1", [id], as: Int.self),
         try db.scalar("SELECT active FROM portals WHERE slug = 'off-' || $1", [id], as: Int.self))
    }

    func subjects(_ db: Database) throws -> [String] {
        try db.query("SELECT subject FROM mail_outbox ORDER BY id").map { try $0.get("subject", as: String.self) }
    }

    func set(_ clock: ManualClock, to time: Int64) { clock.advance(time - clock.now()) }

    @Test("the retry delay: a minute after entering ERROR, doubling with each failed check, at most an hour",
          arguments: [(0, 60), (1, 60), (2, 120), (3, 240), (4, 480), (5, 960), (6, 1920), (7, 3600), (8, 3600), (64, 3600), (Int.max, 3600)] as [(Int, Int64)])
    func retryDelay(failures: Int, seconds: Int64) {
        #expect(StorageHealthChecks.retryDelay(afterFailures: failures) == seconds)
    }

    @Test("an account in ERROR is checked a minute after it entered ERROR, then 2, 4 … minutes after each failed check, at most an hour apart, and not a second before")
    func backoffSchedule() throws {
        try withDatabase { db in
            let clock = ManualClock(Self.start)
            let account = try account(db, clock)
            try move(db, clock, account.id, .temporaryFailure, "refresh failed: http_503")
            let probe = ScriptedProbe()
            probe.answer(account.id, .unreachable("Google Drive could not be reached: http_503"))
            let checks = StorageHealthChecks(db: db, clock: clock, check: probe.check)
            #expect(try checks.schedule(accountID: account.id) == .init(nextCheckAt: Self.start + 60, failures: 1, lastCheckedAt: nil, incidentMailedAt: nil))

            var last = Self.start
            var intervals: [Int64] = []
            for n in 0..<9 {
                let next = try #require(try checks.schedule(accountID: account.id)?.nextCheckAt)
                set(clock, to: next - 1)
                #expect(try checks.runDue().checked == 0, "check \(n): not due a second early")
                #expect(probe.takeAsked().isEmpty)
                clock.advance(1)
                let report = try checks.runDue()
                #expect(report.checked == 1 && report.failed == 1 && report.recovered == 0)
                #expect(probe.takeAsked() == [account.id])
                intervals.append(next - last)
                last = next
                let schedule = try #require(try checks.schedule(accountID: account.id))
                #expect(schedule.failures == n + 2 && schedule.lastCheckedAt == next)
            }
            #expect(intervals == [60, 120, 240, 480, 960, 1920, 3600, 3600, 3600])
            #expect(try status(db, account.id) == "ERROR")
            #expect(try subjects(db) == ["Your Google Drive storage cannot be reached"], "one mail for the incident, not one per check")
        }
    }

    @Test("due: ERROR whose retry has come, ERROR (local disk too) and ACTIVE cloud accounts unused and unchecked for a day; never one not yet due, used within the day, paused, disconnected, or an active local disk; read through the index")
    func dueSelection() throws {
        try withDatabase { base in
            let clock = ManualClock(Self.start)
            let t0 = Self.start
            let errorDue = try account(base, clock, id: "error-due")
            let owner = errorDue.userID
            func make(_ provider: StorageProviderKind, _ id: String) throws -> StorageAccount { try account(base, clock, provider, id: id, owner: owner) }
            let idle = try make(.dropbox, "idle")
            let used = try make(.googleDrive, "used")
            let paused = try make(.googleDrive, "paused")
            let disconnected = try make(.googleDrive, "disconnected")
            let localActive = try make(.local, "local-active")
            let localError = try make(.local, "local-error")
            try move(base, clock, errorDue.id, .temporaryFailure)
            try move(base, clock, localError.id, .temporaryFailure)
            try move(base, clock, paused.id, .ownerDeactivates)
            try move(base, clock, disconnected.id, .accessRevoked)
            clock.advance(50_000)
            let recent = try make(.googleDrive, "recent")  // a day after this, not yet
            // Many accounts not due, so the plan shows what a big table costs.
            try base.execute("""
                WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
                INSERT INTO storage_accounts (user_id, provider, provider_account_id, display_name, status, created_at, updated_at, health_next_check_at)
                SELECT $1, 'google_drive', 'bulk-' || i, 'Bulk', CASE WHEN i % 2 = 0 THEN 'INACTIVE' ELSE 'ACTIVE' END, $2, $2,
                       CASE WHEN i % 2 = 0 THEN NULL ELSE $3 + i END
                FROM n
                """, [owner, t0, t0 + 10 * 86400])
            let check = t0 + 86400 + 10
            set(clock, to: check - 3600)
            try StorageAccountStore(db: base, clock: clock).recordAccess(id: used.id)
            set(clock, to: check - 30)
            let errorLater = try make(.dropbox, "error-later")
            try move(base, clock, errorLater.id, .temporaryFailure)  // due 30 s after the run
            set(clock, to: check)

            for analyzed in [false, true] {
                if analyzed { try base.executeScript("ANALYZE") }
                let db = PlanRecordingDatabase(base)
                let probe = ScriptedProbe()
                for a in [errorDue, idle, localError, errorLater] { probe.answer(a.id, .unreachable("down")) }
                let report = try StorageHealthChecks(db: db, clock: clock, check: probe.check).runDue()
                let asked = Set(probe.takeAsked())
                if !analyzed {
                    #expect(asked == [errorDue.id, idle.id, localError.id], "asked: \(asked)")
                    #expect(report.checked == 3 && report.failed == 3)
                    #expect(!asked.contains(used.id) && !asked.contains(recent.id) && !asked.contains(paused.id) && !asked.contains(disconnected.id)
                                && !asked.contains(localActive.id) && !asked.contains(errorLater.id))
                    // Used within the day: looked at again a day after that use, without asking.
                    #expect(try StorageHealthChecks(db: base, clock: clock, check: probe.check).schedule(accountID: used.id)?.nextCheckAt == check - 3600 + 86400)
                    #expect(try status(base, idle.id) == "ERROR", "an unused ACTIVE account the provider does not answer for is in ERROR")
                } else {
                    #expect(asked.isEmpty, "nothing is due again at once: \(asked)")
                }
                let plans = db.plans.withLock { $0 }.filter { $0.sql.contains("health_next_check_at <=") }
                #expect(plans.count == (base.dialect == .sqlite ? 1 : 0))
                for (_, plan) in plans {
                    let text = plan.joined(separator: " | ")
                    #expect(text.contains("storage_accounts_health_due") && !text.contains("SCAN storage_accounts") && !text.contains("TEMP B-TREE"),
                            "analyzed: \(analyzed): \(text)")
                }
            }
        }
    }

    @Test("one mail per incident across failing checks; recovery through handleStatusChange brings back only the portals switched off automatically, with one 'working again' mail; a new incident mails again; a refused grant mails once more and is then left alone")
    func incidents() throws {
        try withDatabase { db in
            let clock = ManualClock(Self.start)
            let account = try account(db, clock)
            let probe = ScriptedProbe()
            let checks = StorageHealthChecks(db: db, clock: clock, storagePageURL: "https://intake.example/dashboard/settings", check: probe.check)
            func runAtNext() throws -> StorageHealthChecks.Report {
                set(clock, to: try #require(try checks.schedule(accountID: account.id)?.nextCheckAt))
                return try checks.runDue()
            }

            // Entered ERROR outside the checks (a refresh for an upload failed): no mail yet.
            try move(db, clock, account.id, .temporaryFailure, "refresh failed: http_503")
            #expect(try portals(db, account.id) == (0, 0) && subjects(db).isEmpty)
            probe.answer(account.id, .unreachable("Google Drive could not be reached: http_503"))
            var mailed = 0
            for _ in 0..<4 { mailed += try runAtNext().mailed }
            #expect(mailed == 1)
            let mail = try #require(try db.queryOne("SELECT to_address, subject, body FROM mail_outbox"))
            let body: String = try mail.get("body")
            #expect(try mail.get("to_address", as: String.self) == "owner@example.com")
            #expect(try mail.get("subject", as: String.self) == "Your Google Drive storage cannot be reached")
            #expect(body.contains("The portal that uploads to it is switched off") && body.contains("keeps trying on its own")
                        && body.contains("https://intake.example/dashboard/settings") && body.contains("Check again, or Reconnect"), "\(body)")
            #expect(try checks.schedule(accountID: account.id)?.incidentMailedAt != nil)

            // Back: through handleStatusChange (audited, event providerReachable), its own portal stays off.
            probe.answer(account.id, .reachable)
            let back = try runAtNext()
            #expect(back.recovered == 1 && back.checked == 1 && back.mailed == 1)
            #expect(try status(db, account.id) == "ACTIVE" && portals(db, account.id) == (1, 0))
            #expect(try db.scalar("""
                SELECT count(*) FROM audit_log WHERE action = 'storage_account.status' AND entity_id = $1
                AND before_json LIKE '%ERROR%' AND after_json LIKE '%"ACTIVE"%' AND after_json LIKE '%providerReachable%' AND after_json LIKE '%"portals_reactivated":"1"%'
                """, [String(account.id)], as: Int.self) == 1)
            #expect(try subjects(db).last == "Your Google Drive storage is working again")
            let schedule = try #require(try checks.schedule(accountID: account.id))
            #expect(schedule.failures == 0 && schedule.incidentMailedAt != nil && schedule.nextCheckAt == clock.now() + 86400)

            // A day unused, the provider down: the check puts it in ERROR, and mails — a new incident.
            probe.answer(account.id, .unreachable("Google Drive could not be reached: http_502"))
            let down = try runAtNext()
            #expect(down.failed == 1 && down.mailed == 1)
            #expect(try status(db, account.id) == "ERROR" && portals(db, account.id) == (0, 0))
            #expect(try checks.schedule(accountID: account.id)?.nextCheckAt == clock.now() + 60, "first retry a minute after the failed check")
            #expect(try subjects(db).count == 3)
            #expect(try runAtNext().mailed == 0)

            // The grant refused: DISCONNECTED, mailed once (reconnect); never checked again.
            probe.answer(account.id, .refused("Google Drive refused access: invalid_grant"))
            let refused = try runAtNext()
            #expect(refused.disconnected == 1 && refused.mailed == 1)
            #expect(try status(db, account.id) == "DISCONNECTED" && portals(db, account.id) == (0, 0))
            #expect(try subjects(db).last == "Reconnect your Google Drive storage")
            let reconnect = try #require(try db.scalar("SELECT body FROM mail_outbox ORDER BY id DESC LIMIT 1", as: String.self))
            #expect(reconnect.contains("choose Reconnect") && reconnect.contains("invalid_grant"), "\(reconnect)")
            #expect(try checks.schedule(accountID: account.id)?.nextCheckAt == nil)
            clock.advance(30 * 86400)
            #expect(try checks.runDue() == StorageHealthChecks.Report())
            #expect(probe.takeAsked().count == 8)
            #expect(try subjects(db).count == 4)

            // Reconnected by its owner: the incident is closed, the daily check scheduled again.
            _ = try StorageAccountStore(db: db, clock: clock).createOrGet(
                userID: account.userID, provider: .googleDrive, providerAccountID: "acct-1", email: nil, displayName: "x", reconnected: true, by: system)
            #expect(try db.scalar("SELECT health_mailed_status IS NULL FROM storage_accounts WHERE id = $1", [account.id], as: Bool.self) == true)
            #expect(try checks.schedule(accountID: account.id)?.nextCheckAt == clock.now() + 86400)
        }
    }

    @Test("a blip (ERROR, then reachable at the first retry) mails nobody; a check that cannot be made changes nothing and is tried an hour later")
    func blipAndNotChecked() throws {
        try withDatabase { db in
            let clock = ManualClock(Self.start)
            let account = try account(db, clock)
            let probe = ScriptedProbe()
            let checks = StorageHealthChecks(db: db, clock: clock, check: probe.check)
            try move(db, clock, account.id, .temporaryFailure)
            clock.advance(60)
            #expect(try checks.runDue().recovered == 1)
            #expect(try subjects(db).isEmpty && status(db, account.id) == "ACTIVE")

            try move(db, clock, account.id, .temporaryFailure)
            clock.advance(60)
            probe.answer(account.id, .notChecked("Google Drive is not configured on this server"))
            let report = try checks.runDue()
            #expect(report.checked == 0 && report.notChecked == 1 && report.mailed == 0)
            #expect(try status(db, account.id) == "ERROR" && subjects(db).isEmpty)
            #expect(try checks.schedule(accountID: account.id) == .init(nextCheckAt: clock.now() + 3600, failures: 1, lastCheckedAt: Self.start + 60, incidentMailedAt: nil))

            // A check that throws is not checked either.
            set(clock, to: clock.now() + 3600)
            let throwing = StorageHealthChecks(db: db, clock: clock) { _, _ in throw ValidationError("", "no connection") }
            #expect(try throwing.runDue().notChecked == 1)
        }
    }

    @Test("check now: at once whatever the backoff, as the admin (audited under their id); a paused or disconnected account is not asked; each outcome is said in plain words")
    func checkNow() throws {
        try withDatabase { db in
            let clock = ManualClock(Self.start)
            let account = try account(db, clock)
            let admin = AuditLog.Actor(userID: account.userID, remoteAddress: "10.0.0.1")
            let probe = ScriptedProbe()
            let checks = StorageHealthChecks(db: db, clock: clock, check: probe.check)
            #expect(try checks.checkNow(accountID: account.id, by: admin) == .healthy)
            try move(db, clock, account.id, .temporaryFailure)
            probe.answer(account.id, .unreachable("Google Drive could not be reached: http_503"))
            #expect(try checks.checkNow(accountID: account.id, by: admin) == .stillFailing("Google Drive could not be reached: http_503"))
            #expect(try checks.schedule(accountID: account.id)?.failures == 2)
            probe.answer(account.id, .reachable)
            #expect(try checks.checkNow(accountID: account.id, by: admin) == .recovered)
            #expect(try db.scalar("""
                SELECT actor_id FROM audit_log WHERE action = 'storage_account.status' AND after_json LIKE '%providerReachable%'
                """, as: Int64.self) == account.userID)
            #expect(probe.takeAsked().count == 3)

            try move(db, clock, account.id, .ownerDeactivates)
            #expect(try checks.checkNow(accountID: account.id, by: admin) == .notChecked("its owner paused it"))
            try move(db, clock, account.id, .accessRevoked)
            if case .notChecked = try checks.checkNow(accountID: account.id, by: admin) {} else { Issue.record("a disconnected account is not asked") }
            #expect(probe.takeAsked().isEmpty)
            #expect(throws: ValidationError.self) { try checks.checkNow(accountID: 999, by: admin) }

            let descriptions = [StorageHealthChecks.Outcome.healthy, .recovered, .stillFailing("http_503"), .disconnected("invalid_grant"),
                                .notChecked("its owner paused it")].map(\.description)
            #expect(descriptions == [
                "The provider answered: the account works.",
                "The provider answered again: the account is active and its portals are back on.",
                "The provider could not be reached (http_503). The account stays in error and is checked again later.",
                "The provider refused access (invalid_grant). The account is disconnected until its owner reconnects it.",
                "Not checked: its owner paused it.",
            ])
        }
    }

    @Test("the jobs pass runs the checks (storage_health) and reports them; without a check wired it does not")
    func jobsPass() throws {
        try withDatabase { db in
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("intake-health-\(UUID().uuidString)").path
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let configuration = try Configuration.load(["INTAKE_HOME": dir], workingDirectory: "/")
            let clock = ManualClock(Self.start)
            let account = try account(db, clock)
            try move(db, clock, account.id, .temporaryFailure)
            clock.advance(60)
            let noStorage: (StorageAccount) throws -> StorageProvider = { _ in throw ValidationError("", "no storage in this test") }
            let holder = LeaseHolder(of: LocalProcesses())
            let without = try Jobs(db: db, clock: clock, holder: holder, configuration: configuration, provider: noStorage).runOnce(mail: nil)
            #expect(without.leader && without.storageHealth == .init())
            let probe = ScriptedProbe()
            let report = try Jobs(db: db, clock: clock, holder: holder, configuration: configuration, provider: noStorage,
                                  storageHealthCheck: probe.check).runOnce(mail: nil)
            #expect(report.failures.isEmpty, "\(report.failures)")
            #expect(report.storageHealth.checked == 1 && report.storageHealth.recovered == 1)
            #expect(try status(db, account.id) == "ACTIVE")
        }
    }

    @Test("the provider probe against the fake Google: a fresh token and userinfo; userinfo down puts an ACTIVE account in ERROR; a refused access token is renewed once; invalid_grant disconnects")
    func providerProbe() throws {
        let setup = AccessTokenTests()
        let clock = ManualClock(Int64(Date().timeIntervalSince1970))
        try withDatabase { db in
            let s = try setup.setUp(db, clock: clock)
            defer { s.fake.stop() }
            let tokens = AccessTokens(db: db, clock: clock, secretKey: setup.key, providers: [.google: s.provider], http: try CurlClient(), retry: .never)
            let probe = ProviderHealthProbe(tokens: tokens, providers: [.google: s.provider], http: try CurlClient(), retry: .never)
            let checks = StorageHealthChecks(db: db, clock: clock, check: probe.check)
            let actor = AuditLog.Actor(userID: nil, remoteAddress: "")
            let identityCalls = s.fake.identityCalls  // the set-up asked once

            #expect(try checks.checkNow(accountID: s.storageID, by: actor) == .healthy)
            #expect(s.fake.identityCalls == identityCalls + 1 && s.fake.refreshCalls == 0, "a fresh token is used as it is")

            s.fake.failNextIdentityCalls([.status(503, retryAfter: nil)])
            #expect(try checks.checkNow(accountID: s.storageID, by: actor) == .stillFailing("Google Drive could not be reached: temporarily_unavailable"))
            #expect(try status(db, s.storageID) == "ERROR")
            #expect(try db.scalar("SELECT active FROM portals WHERE slug = 'p'", as: Int.self) == 0)

            // The access token refused by userinfo: dropped, refreshed once, asked again.
            s.fake.expireAccessTokens()
            #expect(try checks.checkNow(accountID: s.storageID, by: actor) == .recovered)
            #expect(s.fake.refreshCalls == 1 && s.fake.identityCalls == identityCalls + 4)
            #expect(try status(db, s.storageID) == "ACTIVE" && db.scalar("SELECT active FROM portals WHERE slug = 'p'", as: Int.self) == 1)

            // Userinfo refuses even a freshly refreshed token: the token endpoint has just honoured
            // the grant, so this is not its end — not checked, and the account stays as it is.
            s.fake.failNextIdentityCalls([.status(401, retryAfter: nil), .status(401, retryAfter: nil)])
            let refreshes = s.fake.refreshCalls
            if case .notChecked(let why) = try checks.checkNow(accountID: s.storageID, by: actor) {
                #expect(why.contains("freshly refreshed token"), "\(why)")
            } else {
                Issue.record("a refusal after a successful refresh must not disconnect the account")
            }
            #expect(try status(db, s.storageID) == "ACTIVE" && s.fake.refreshCalls == refreshes + 1)

            // The refresh answers invalid_grant (once: a refused refresh is final, never retried).
            s.fake.failNextTokenCalls([.oauthError(400, "invalid_grant")])
            let tokenCalls = s.fake.tokenCalls
            clock.advance(3600)
            if case .disconnected(let why) = try checks.checkNow(accountID: s.storageID, by: actor) {
                #expect(why.contains("invalid_grant"), "\(why)")
            } else {
                Issue.record("a refused grant disconnects")
            }
            #expect(try status(db, s.storageID) == "DISCONNECTED" && s.fake.tokenCalls == tokenCalls + 1, "the refusal was not retried")
            #expect(try subjects(db) == ["Your Google Drive storage cannot be reached", "Your Google Drive storage is working again",
                                         "Reconnect your Google Drive storage"])
        }
    }
}
