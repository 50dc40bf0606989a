import Curl
import Foundation
import Synchronization
import Testing
@testable import Intake
import TestSupport

@Suite("Mail outbox over SMTP (libcurl) to a local sink", .serialized)
struct MailOutboxTests {
    @Test("queued mail is delivered; with the sink down it waits and goes out once the sink is back")
    func delivery() throws {
        try withDatabase { db in
            let clock = ManualClock()
            let outbox = MailOutbox(db: db, clock: clock)
            let port = FreePort.find()
            let curl = try CurlClient()
            func send(_ mail: OutgoingMail) throws {
                try curl.sendMail(url: "smtp://127.0.0.1:\(port)", from: "intake@example.com", to: [mail.to],
                                  message: MailOutbox.format(mail, from: "Intake <intake@example.com>", date: Date(), domain: "example.com"))
            }
            try outbox.enqueue(to: "owner@example.com", subject: "New upload: report.pdf", body: "Ada sent report.pdf.\n.hidden line")
            #expect(try outbox.deliverDue(send: send) == 0, "nobody listens yet")
            let row = try #require(try db.queryOne("SELECT attempts, last_error, next_attempt_at FROM mail_outbox"))
            #expect(try row.get("attempts", as: Int.self) == 1 && (try row.get("last_error", as: String?.self)) != nil)
            #expect(try outbox.deliverDue(send: send) == 0, "not due again before the backoff")

            let sink = try SMTPSink(port: port)
            defer { sink.stop() }
            clock.advance(5)
            #expect(try outbox.deliverDue(send: send) == 1)
            let message = try #require(sink.messages.first)
            #expect(message.from == "intake@example.com" && message.to == ["owner@example.com"])
            #expect(message.data.contains("Subject: New upload: report.pdf") && message.data.contains("Ada sent report.pdf."))
            #expect(message.data.contains("\n.hidden line"), "dot-stuffing undone by the receiver")
            #expect(try outbox.deliverDue(send: send) == 0, "sent once only")
            #expect(sink.messages.count == 1)
        }
    }

    @Test("8 runners at once, each on its own connection, over 40 due messages: each message is sent exactly once; one whose runner died is sent again after the claim")
    func concurrentRunners() throws {
        try withDatabase { db in
            let clock = ManualClock()
            let outbox = MailOutbox(db: db, clock: clock)
            for i in 0..<40 { try outbox.enqueue(to: "o\(i)@example.com", subject: "s\(i)", body: "b") }
            let location = db.location
            let sent = Mutex<[Int64]>([])
            let failures = Mutex<[String]>([])
            onThreads(8) { _ in
                do {
                    let own = MailOutbox(db: try location.open(), clock: clock)
                    try own.deliverDue { mail in
                        usleep(2_000)  // a send takes a while: the others are choosing meanwhile
                        sent.withLock { $0.append(mail.id) }
                    }
                } catch {
                    failures.withLock { $0.append("\(error)") }
                }
            }
            #expect(failures.withLock { $0 }.isEmpty, "\(failures.withLock { $0 })")
            #expect(sent.withLock { $0 }.sorted() == Array(1...40), "each once: \(sent.withLock { $0 }.count) sends")
            #expect(try db.scalar("SELECT count(*) FROM mail_outbox WHERE sent_at IS NOT NULL", as: Int.self) == 40)

            // A runner that claimed a message and died: nobody sends it until the claim is over.
            let lost = try outbox.enqueue(to: "late@example.com", subject: "late", body: "b")
            try db.execute("UPDATE mail_outbox SET next_attempt_at = $1 WHERE id = $2", [clock.now() + MailOutbox.claimSeconds, lost])
            #expect(try outbox.deliverDue { _ in } == 0)
            clock.advance(MailOutbox.claimSeconds)
            #expect(try outbox.deliverDue { _ in } == 1)
        }
    }

    @Test("headers cannot be injected; a non-ASCII subject is encoded")
    func format() {
        let mail = OutgoingMail(id: 7, to: "a@example.com\r\nBcc: evil@example.com", subject: "Größe: ✓\r\nX-Evil: 1", body: "hi")
        let text = String(decoding: MailOutbox.format(mail, from: "Intake <i@example.com>", date: Date(timeIntervalSince1970: 0), domain: "example.com"), as: UTF8.self)
        #expect(!text.contains("\r\nBcc:") && !text.contains("\r\nX-Evil:"))
        #expect(text.contains("Subject: =?UTF-8?B?") && text.contains("Date: Thu, 01 Jan 1970 00:00:00 +0000"))
    }
}
