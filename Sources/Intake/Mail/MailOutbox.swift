import Database
import Foundation

/// One message to send.
public struct OutgoingMail: Sendable, Equatable {
    public let id: Int64
    public let to: String
    public let subject: String
    public let body: String
}

/// Mail queued in the database and delivered by a job with retries and backoff, so a mail
/// failure never fails what caused the mail.
public struct MailOutbox {
    let db: Database
    let clock: EpochClock

    /// After this many failed attempts a message is given up (and stays in the table).
    public static let maxAttempts = 20

    public init(db: Database, clock: EpochClock) {
        self.db = db
        self.clock = clock
    }

    /// Queues a message (call inside the transaction of what it reports).
    @discardableResult
    public func enqueue(to: String, subject: String, body: String) throws -> Int64 {
        let now = clock.now()
        return try db.scalar("""
            INSERT INTO mail_outbox (to_address, subject, body, next_attempt_at, created_at) VALUES ($1, $2, $3, $4, $4) RETURNING id
            """, [to, subject, body, now], as: Int64.self)!
    }

    /// How long a runner owns the message it is sending: another runner (a job leader that took
    /// over on another host, say) leaves it alone that long, and retries it after that if the
    /// first runner died before saying how the send went.
    public static let claimSeconds: Int64 = 300

    /// Sends what is due with `send`; a failure schedules the next attempt (5 s, doubling, at
    /// most an hour). Each message is claimed before it is sent (its next attempt moved past the
    /// claim, only if it is still due), so two runners at once never send one message twice.
    /// Returns how many were sent.
    @discardableResult
    public func deliverDue(limit: Int = 50, send: (OutgoingMail) throws -> Void) throws -> Int {
        let now = clock.now()
        let due = try db.query("""
            SELECT id, to_address, subject, body, attempts FROM mail_outbox
            WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= $1 ORDER BY id LIMIT $2
            """, [now, limit])
        var sent = 0
        for row in due {
            let mail = OutgoingMail(id: try row.get("id"), to: try row.get("to_address"), subject: try row.get("subject"), body: try row.get("body"))
            let attempts: Int = try row.get("attempts")
            let claimed = try db.execute("""
                UPDATE mail_outbox SET next_attempt_at = $1
                WHERE id = $2 AND sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= $3
                """, [clock.now() + Self.claimSeconds, mail.id, now])
            guard claimed == 1 else { continue }  // another runner has it
            do {
                try send(mail)
                try db.execute("UPDATE mail_outbox SET sent_at = $1, attempts = attempts + 1, last_error = NULL WHERE id = $2", [clock.now(), mail.id])
                sent += 1
            } catch {
                let delay = min(Int64(5) << min(attempts, 12), 3600)
                let giveUp = attempts + 1 >= Self.maxAttempts
                try db.execute("""
                    UPDATE mail_outbox SET attempts = attempts + 1, next_attempt_at = $1, last_error = $2, failed_at = $3 WHERE id = $4
                    """, [clock.now() + delay, String("\(error)".prefix(500)), giveUp ? clock.now() : nil, mail.id])
            }
        }
        return sent
    }

    /// An RFC 5322 message: CRLF lines, UTF-8 body, an RFC 2047 subject when it is not ASCII,
    /// and header values stripped of line breaks (no header injection).
    public static func format(_ mail: OutgoingMail, from: String, date: Date, domain: String) -> [UInt8] {
        func clean(_ s: String) -> String { String(s.unicodeScalars.filter { $0 != "\r" && $0 != "\n" }) }
        let subject = clean(mail.subject)
        let encodedSubject = subject.unicodeScalars.allSatisfy(\.isASCII)
            ? subject : "=?UTF-8?B?" + Data(subject.utf8).base64EncodedString() + "?="
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss '+0000'"
        let headers = [
            "From: \(clean(from))", "To: \(clean(mail.to))", "Subject: \(encodedSubject)", "Date: \(formatter.string(from: date))",
            "Message-ID: <outbox-\(mail.id).\(Int(date.timeIntervalSince1970))@\(clean(domain))>", "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: 8bit",
        ]
        // Lines starting with "." are not stuffed here: libcurl does the SMTP dot-stuffing itself.
        let body = mail.body.replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        return Array((headers.joined(separator: "\r\n") + "\r\n\r\n" + body.joined(separator: "\r\n") + "\r\n").utf8)
    }
}
