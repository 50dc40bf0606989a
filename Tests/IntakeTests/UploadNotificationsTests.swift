import Foundation
import Database
import Testing
@testable import Intake

@Suite("Upload notifications: a mail each, a daily digest, or none, per owner and per portal")
struct UploadNotificationsTests {
    func seed(_ db: Database) throws {
        try db.executeScript("""
            INSERT INTO users (id, email, email_normalized, name, password_hash, role, created_at, updated_at)
                VALUES (1, 'owner@example.com', 'owner@example.com', 'Owner', 'x', 'user', 0, 0);
            INSERT INTO portals (id, user_id, name, slug, created_at, updated_at) VALUES (1, 1, 'Tax', 'tax', 0, 0), (2, 1, 'Photos', 'photos', 0, 0);
            """)
    }

    func mail(_ db: Database) throws -> [String] {
        try db.query("SELECT subject FROM mail_outbox ORDER BY id").map { try $0.get("subject", as: String.self) }
    }

    @Test("each (the default): one mail per delivered file")
    func each() throws {
        try withDatabase { db in
            try seed(db)
            let notifications = UploadNotifications(db: db, clock: ManualClock())
            #expect(try notifications.ownerMode(userID: 1) == .each)
            try notifications.delivered(userID: 1, portalID: 1, subject: "New upload to Tax: a.pdf", line: "a.pdf arrived.", details: "")
            try notifications.delivered(userID: 1, portalID: 2, subject: "New upload to Photos: b.jpg", line: "b.jpg arrived.", details: "")
            #expect(try mail(db) == ["New upload to Tax: a.pdf", "New upload to Photos: b.jpg"])
        }
    }

    @Test("daily: nothing at once, one digest listing every file once the day is over, then the next day starts afresh")
    func daily() throws {
        try withDatabase { db in
            try seed(db)
            let clock = ManualClock()
            let notifications = UploadNotifications(db: db, clock: clock)
            try notifications.setOwnerMode(userID: 1, .daily, by: AuditLog.Actor(userID: 1, remoteAddress: ""))
            try notifications.delivered(userID: 1, portalID: 1, subject: "s", line: "a.pdf arrived.", details: "")
            clock.advance(3600)
            try notifications.delivered(userID: 1, portalID: 2, subject: "s", line: "b.jpg arrived.", details: "")
            #expect(try mail(db).isEmpty)
            #expect(try notifications.sendDueDigests() == 0, "the day is not over")
            clock.advance(UploadNotifications.digestInterval - 3600)
            #expect(try notifications.sendDueDigests() == 1)
            let body = try #require(try db.scalar("SELECT body FROM mail_outbox", as: String.self))
            #expect(try mail(db) == ["Your uploads today: 2 files"] && body.contains("- a.pdf arrived.\n- b.jpg arrived."))
            #expect(try notifications.sendDueDigests() == 0, "sent once")
            #expect(try db.scalar("SELECT count(*) FROM upload_digest_items", as: Int.self) == 0)
            try notifications.delivered(userID: 1, portalID: 1, subject: "s", line: "c.pdf arrived.", details: "")
            clock.advance(UploadNotifications.digestInterval)
            #expect(try notifications.sendDueDigests() == 1 && (try mail(db)).last == "Your uploads today: 1 file")
        }
    }

    @Test("a portal's own choice wins over the owner's: none silences it, each keeps it immediate under a daily owner")
    func portalOverride() throws {
        try withDatabase { db in
            try seed(db)
            let notifications = UploadNotifications(db: db, clock: ManualClock())
            try notifications.setOwnerMode(userID: 1, .daily, by: AuditLog.Actor(userID: 1, remoteAddress: ""))
            try db.execute("UPDATE portals SET upload_notifications = 'each' WHERE id = 1")
            try db.execute("UPDATE portals SET upload_notifications = 'none' WHERE id = 2")
            try notifications.delivered(userID: 1, portalID: 1, subject: "New upload to Tax: a.pdf", line: "a.pdf arrived.", details: "")
            try notifications.delivered(userID: 1, portalID: 2, subject: "New upload to Photos: b.jpg", line: "b.jpg arrived.", details: "")
            #expect(try mail(db) == ["New upload to Tax: a.pdf"])
            #expect(try db.scalar("SELECT count(*) FROM upload_digest_items", as: Int.self) == 0)
            #expect(try db.scalar("SELECT action FROM audit_log WHERE entity_type = 'user'", as: String.self) == "user.notifications")
        }
    }
}

@Suite("Background jobs")
struct JobsTests {
    @Test("one job that fails is reported by name and the others still run")
    func failingJobAlone() throws {
        try withDatabase { db in
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("intake-jobs-\(UUID().uuidString)").path
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let configuration = try Configuration.load(["INTAKE_HOME": dir], workingDirectory: "/")
            let clock = ManualClock()
            try db.executeScript("""
                INSERT INTO users (id, email, email_normalized, name, password_hash, role, created_at, updated_at)
                    VALUES (1, 'a@example.com', 'a@example.com', 'A', 'x', 'user', 0, 0);
                """)
            try db.execute("INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, last_seen_at, expires_at) VALUES ($1, 1, 'c', 0, 0, 1)", [[UInt8]([1])])
            try db.execute("DROP TABLE oauth_states")
            let report = try Jobs(db: db, clock: clock, configuration: configuration, provider: { _ in throw ValidationError("", "no storage in this test") }).runOnce(mail: nil)
            #expect(report.leader && report.failures.map(\.job) == ["oauth_states"])
            #expect(report.failures.first?.error.contains("oauth_states") == true)
            #expect(report.sessionsRemoved == 1, "the jobs before it ran")
            #expect(try db.scalar("SELECT count(*) FROM sessions", as: Int.self) == 0)
        }
    }
}
