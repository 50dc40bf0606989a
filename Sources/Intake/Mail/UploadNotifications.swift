import Database

/// How an owner hears of files that arrive.
public enum NotificationMode: String, Sendable, CaseIterable {
    /// A mail for every delivered file.
    case each
    /// One mail a day listing what arrived.
    case daily
    /// No mail.
    case none
}

/// The owner's notification preference, a portal's override, and what a delivered file turns
/// into: a mail in the outbox now, a line for the daily digest, or nothing. Everything is written
/// in the caller's transaction, so a notification exists exactly when the delivery does.
public struct UploadNotifications {
    let db: Database
    let clock: EpochClock

    /// A digest goes out at most this often per owner.
    public static let digestInterval: Int64 = 24 * 3600

    public init(db: Database, clock: EpochClock) {
        self.db = db
        self.clock = clock
    }

    public func ownerMode(userID: Int64) throws -> NotificationMode {
        (try db.scalar("SELECT upload_notifications FROM users WHERE id = $1", [userID], as: String.self)).flatMap(NotificationMode.init) ?? .each
    }

    public func setOwnerMode(userID: Int64, _ mode: NotificationMode, by actor: AuditLog.Actor) throws {
        try db.write {
            let before = try ownerMode(userID: userID)
            try db.execute("UPDATE users SET upload_notifications = $1 WHERE id = $2", [mode.rawValue, userID])
            try AuditLog(db: db, clock: clock).record(actor, action: "user.notifications", entityType: "user", entityID: String(userID),
                                                      before: [("upload_notifications", before.rawValue)], after: [("upload_notifications", mode.rawValue)])
        }
    }

    /// What applies to files of `portalID`: the portal's own choice, else its owner's.
    public func mode(portalID: Int64) throws -> NotificationMode {
        let text = try db.scalar("""
            SELECT coalesce(p.upload_notifications, u.upload_notifications) FROM portals p JOIN users u ON u.id = p.user_id WHERE p.id = $1
            """, [portalID], as: String.self)
        return text.flatMap(NotificationMode.init) ?? .each
    }

    /// A file was delivered: the owner's mail now, or a digest line, or nothing, as chosen.
    func delivered(userID: Int64, portalID: Int64, subject: String, line: String, details: String) throws {
        guard let owner = try db.scalar("SELECT email FROM users WHERE id = $1", [userID], as: String.self) else { return }
        switch try mode(portalID: portalID) {
        case .each:
            try MailOutbox(db: db, clock: clock).enqueue(to: owner, subject: subject, body: line + "\n" + details)
        case .daily:
            let now = clock.now()
            try db.execute("INSERT INTO upload_digest_items (user_id, line, created_at) VALUES ($1, $2, $3)", [userID, line, now])
            // The day of the first waiting line starts the clock of the next digest.
            try db.execute("UPDATE users SET digest_started_at = $1 WHERE id = $2 AND digest_started_at IS NULL", [now, userID])
        case .none:
            break
        }
    }

    /// Sends every digest that is due (its day is over) as one mail per owner, and returns how
    /// many. Each owner's digest is queued and its lines removed in one transaction.
    @discardableResult
    public func sendDueDigests(limit: Int = 100) throws -> Int {
        let due = try db.query("""
            SELECT id, email FROM users WHERE digest_started_at IS NOT NULL AND digest_started_at <= $1 ORDER BY digest_started_at LIMIT $2
            """, [clock.now() - Self.digestInterval, limit])
        var sent = 0
        for row in due {
            let userID: Int64 = try row.get("id")
            let email: String = try row.get("email")
            try db.write {
                let lines = try db.query("SELECT line FROM upload_digest_items WHERE user_id = $1 ORDER BY id", [userID])
                    .map { try $0.get("line", as: String.self) }
                if !lines.isEmpty {
                    try MailOutbox(db: db, clock: clock).enqueue(
                        to: email, subject: "Your uploads today: \(lines.count) file\(lines.count == 1 ? "" : "s")",
                        body: "These files arrived through your portals:\n\n" + lines.map { "- " + $0 }.joined(separator: "\n") + "\n")
                    sent += 1
                }
                try db.execute("DELETE FROM upload_digest_items WHERE user_id = $1", [userID])
                try db.execute("UPDATE users SET digest_started_at = NULL WHERE id = $1", [userID])
            }
        }
        return sent
    }
}
