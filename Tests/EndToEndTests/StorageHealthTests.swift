import Database
import Foundation
import Testing
import TestSupport

/// Issue 16, the storage health checks, through the real binary: `intake jobs run` as a process of
/// its own, moved ahead by libfaketime to when a check is due (no waiting), against the fake
/// provider and an SMTP sink, while the server answers through nginx. The server's own jobs thread
/// runs once at start (no accounts yet), then waits an hour, so the test's runs are the only ones.
@Suite("Storage health checks through the real binary: backoff, recovery with the portals, invalid_grant, one mail per incident", .serialized,
       .enabled(if: integrationEnabled, "set INTAKE_INTEGRATION=1 (scripts/test does)"))
struct StorageHealthTests {
    /// A connected owner (the real OAuth flow) with two portals on the account: `p`, active, and
    /// `off`, switched off by its owner; mail goes to `sink`.
    func connected(kind: FakeOAuthServer.Kind = .google, tokenLifetime: Int, sink: SMTPSink) throws -> (IntakeTestServer, FakeOAuthServer, WebSession, any Database) {
        let (server, fake, browser) = try StorageAPITests().connected(tokenLifetime: tokenLifetime, kind: kind) { _ in
            ["INTAKE_SMTP_URL": sink.url, "INTAKE_MAIL_FROM": "Intake <intake@example.com>"].merging(BillingJobsTests.quietJobs) { a, _ in a }
        }
        let db = try server.openDatabase()
        try db.execute("INSERT INTO portals (user_id, name, slug, storage_account_id, active, created_at, updated_at) SELECT user_id, 'Off', 'off', id, 0, 0, 0 FROM storage_accounts")
        return (server, fake, browser, db)
    }

    func status(_ db: any Database) throws -> String? { try db.scalar("SELECT status FROM storage_accounts WHERE id = 1", as: String.self) }
    func portalActive(_ db: any Database, _ slug: String) throws -> Int? { try db.scalar("SELECT active FROM portals WHERE slug = $1", [slug], as: Int.self) }
    func nextCheck(_ db: any Database) throws -> Int64? { try db.scalar("SELECT health_next_check_at FROM storage_accounts WHERE id = 1", as: Int64?.self) ?? nil }
    func failures(_ db: any Database) throws -> Int? { try db.scalar("SELECT health_failures FROM storage_accounts WHERE id = 1", as: Int.self) }
    var now: Int64 { Int64(Date().timeIntervalSince1970) }

    /// The subjects of the mail the sink received for the owner, in order.
    func subjects(_ sink: SMTPSink) -> [String] {
        sink.messages.filter { $0.to == ["owner@example.com"] }
            .compactMap { $0.data.split(separator: "\n").first { $0.hasPrefix("Subject: ") }.map { String($0.dropFirst(9)) } }
    }

    /// `intake jobs run` with the clock moved to `at` (epoch seconds, later than now); its output's
    /// storage health line.
    func runJobs(_ server: IntakeTestServer, at time: Int64) throws -> String {
        let output = try BillingJobsTests().runJobs(server.environment, ahead: max(1, time - now))
        return output.split(separator: "\n").first { $0.hasPrefix("storage health:") }.map(String.init) ?? output
    }

    @Test("an account in ERROR while the provider answers 503 is retried by `intake jobs run` a minute on, then two, not before; the owner is mailed once; when the provider answers again it is ACTIVE with its portal, and one 'working again' mail follows")
    func errorRetriedUntilItRecovers() throws {
        let sink = try SMTPSink()
        let (server, fake, browser, db) = try connected(tokenLifetime: 60, sink: sink)
        defer { server.stop(); fake.stop(); sink.stop() }

        // ERROR through the owner's Sync while Google's token endpoint answers 503.
        fake.failNextTokenCalls(Array(repeating: .status(503, retryAfter: 0), count: 5))
        let entered = now
        #expect(try browser.post("/dashboard/settings/sync", form: []).status == 303)
        #expect(try status(db) == "ERROR" && portalActive(db, "p") == 0)
        let first = try #require(try nextCheck(db))
        #expect(try failures(db) == 1 && first >= entered + 60 && first <= now + 60, "the first retry a minute after entering ERROR")

        // Still down at the first retry (every refresh answers 503): still ERROR, one mail, the next check two minutes on.
        fake.failNextTokenCalls(Array(repeating: .status(503, retryAfter: 0), count: 100))
        #expect(try runJobs(server, at: first + 1) == "storage health: 1 checked, 0 recovered, 1 still failing, 0 disconnected, 0 not checked, 1 owners mailed")
        #expect(try status(db) == "ERROR" && failures(db) == 2)
        let second = try #require(try nextCheck(db))
        let checkedAt = try #require(try db.scalar("SELECT health_checked_at FROM storage_accounts WHERE id = 1", as: Int64.self))
        #expect(second == checkedAt + 120)
        #expect(subjects(sink) == ["Your Google Drive storage cannot be reached"])
        let body = sink.messages.first?.data ?? ""
        #expect(body.contains("keeps trying on its own") && body.contains(server.environment["INTAKE_BASE_URL"]! + "/dashboard/settings"), "\(body)")

        // Before the backoff is over: nothing is asked.
        let tokenCalls = fake.tokenCalls
        #expect(try runJobs(server, at: second - 30).hasPrefix("storage health: 0 checked"))
        #expect(fake.tokenCalls == tokenCalls)

        // Due again, still down: no second mail; four minutes to the next check.
        #expect(try runJobs(server, at: second + 1).hasPrefix("storage health: 1 checked, 0 recovered, 1 still failing"))
        #expect(try failures(db) == 3 && fake.tokenCalls > tokenCalls)
        let third = try #require(try nextCheck(db))
        #expect(try third == db.scalar("SELECT health_checked_at FROM storage_accounts WHERE id = 1", as: Int64.self).map { $0 + 240 })
        #expect(subjects(sink).count == 1)

        // Google answers again: ACTIVE, its portal back (not the owner's own), one "working again" mail.
        fake.failNextTokenCalls([])
        #expect(try runJobs(server, at: third + 1) == "storage health: 1 checked, 1 recovered, 0 still failing, 0 disconnected, 0 not checked, 1 owners mailed")
        #expect(try status(db) == "ACTIVE" && portalActive(db, "p") == 1 && portalActive(db, "off") == 0)
        #expect(subjects(sink) == ["Your Google Drive storage cannot be reached", "Your Google Drive storage is working again"])
        #expect(try db.scalar("""
            SELECT count(*) FROM audit_log WHERE action = 'storage_account.status' AND before_json LIKE '%ERROR%' AND after_json LIKE '%providerReachable%'
            """, as: Int.self) == 1)
        #expect(try failures(db) == 0)
    }

    @Test("a refused grant (invalid_grant) found by the daily check of an unused account: DISCONNECTED, mailed once, then left alone; reconnected, a new incident (the identity call answering 503) is mailed again",
          arguments: [FakeOAuthServer.Kind.google, .dropbox])
    func refusedGrantAndANewIncident(kind: FakeOAuthServer.Kind) throws {
        let sink = try SMTPSink()
        let (server, fake, browser, db) = try connected(kind: kind, tokenLifetime: 3600, sink: sink)
        defer { server.stop(); fake.stop(); sink.stop() }
        let name = kind == .google ? "Google Drive" : "Dropbox"
        let day: Int64 = 86400

        fake.failNextTokenCalls([.oauthError(400, "invalid_grant")])
        #expect(try runJobs(server, at: now + day + 120) == "storage health: 1 checked, 0 recovered, 0 still failing, 1 disconnected, 0 not checked, 1 owners mailed")
        #expect(try status(db) == "DISCONNECTED" && portalActive(db, "p") == 0)
        #expect(subjects(sink) == ["Reconnect your \(name) storage"])
        let body = sink.messages.first?.data ?? ""
        #expect(body.contains("choose Reconnect") && body.contains("invalid_grant"), "\(body)")

        // Never checked again while disconnected: the provider is not asked, nobody is mailed.
        let tokenCalls = fake.tokenCalls, identityCalls = fake.identityCalls
        #expect(try runJobs(server, at: now + 3 * day).hasPrefix("storage health: 0 checked"))
        #expect(fake.tokenCalls == tokenCalls && fake.identityCalls == identityCalls && subjects(sink).count == 1)

        // The owner reconnects (signing in again: the sessions expired in the jobs' future): the incident is over.
        try browser.get("/login")
        try browser.post("/login", form: [("email", "owner@example.com"), ("password", StorageAPITests().password)])
        let callback = try StorageConnectTests().consent(browser, fake)
        #expect(try browser.get(callback).status == 303)
        #expect(try status(db) == "ACTIVE" && portalActive(db, "p") == 1)

        // Days later, unused: the token refreshes, but the identity call answers 503 — ERROR, a new incident, a new mail.
        fake.failNextIdentityCalls(Array(repeating: .status(503, retryAfter: 0), count: 5))
        #expect(try runJobs(server, at: now + 4 * day) == "storage health: 1 checked, 0 recovered, 1 still failing, 0 disconnected, 0 not checked, 1 owners mailed")
        #expect(fake.identityCalls > identityCalls)
        #expect(try status(db) == "ERROR" && portalActive(db, "p") == 0 && failures(db) == 1)
        #expect(subjects(sink) == ["Reconnect your \(name) storage", "Your \(name) storage cannot be reached"])
    }
}
