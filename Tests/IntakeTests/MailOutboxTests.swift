import Curl
import Foundation
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

    @Test("headers cannot be injected; a non-ASCII subject is encoded")
    func format() {
        let mail = OutgoingMail(id: 7, to: "a@example.com\r\nBcc: evil@example.com", subject: "Größe: ✓\r\nX-Evil: 1", body: "hi")
        let text = String(decoding: MailOutbox.format(mail, from: "Intake <i@example.com>", date: Date(timeIntervalSince1970: 0), domain: "example.com"), as: UTF8.self)
        #expect(!text.contains("\r\nBcc:") && !text.contains("\r\nX-Evil:"))
        #expect(text.contains("Subject: =?UTF-8?B?") && text.contains("Date: Thu, 01 Jan 1970 00:00:00 +0000"))
    }
}
