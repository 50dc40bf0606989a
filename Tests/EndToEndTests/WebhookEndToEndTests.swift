import Database
import Foundation
import Sodium
import Synchronization
import Testing
import TestSupport

/// Webhooks through the real binary behind nginx, to a loopback receiver: the owner registers an
/// endpoint on the dashboard, an upload produces a signed `upload.completed`, the receiver's 500s
/// are retried on the schedule by `intake jobs run` with a moved clock (libfaketime, as the
/// billing jobs' tests do), every attempt is on the endpoint's page, and the secret is in no log.
@Suite("Webhooks through the real binary: signed deliveries, retries, the attempt log, switched off after three days", .serialized,
       .enabled(if: integrationEnabled, "set INTAKE_INTEGRATION=1 (scripts/test does)"))
struct WebhookEndToEndTests {
    /// The demo site whose own jobs run once at start (so the test's runs are the only ones),
    /// with webhooks allowed to loopback and mail going to `sink`.
    func site(_ sink: SMTPSink) throws -> DemoSite {
        try DemoSite(extraEnvironment: BillingJobsTests.quietJobs.merging([
            "INTAKE_WEBHOOKS_ALLOW_PRIVATE": "1", "INTAKE_SMTP_URL": sink.url,
        ]) { _, new in new })
    }

    /// Registers an endpoint on the dashboard; its id and the secret the answer showed once.
    func register(_ site: DemoSite, url: String, events: [String]) throws -> (id: Int64, secret: String) {
        _ = try site.owner.get("/dashboard/webhooks")
        let created = try site.owner.post("/dashboard/webhooks", form: [("url", url), ("description", "Receiver")] + events.map { ("events", $0) })
        #expect(created.status == 201, "\(created.text.prefix(500))")
        #expect(created.headers["cache-control"] == "no-store")
        let secret = try #require(created.text.range(of: #"whsec_[A-Za-z0-9_-]{43}"#, options: .regularExpression).map { String(created.text[$0]) })
        let id = try #require(try site.db.scalar("SELECT max(id) FROM webhook_endpoints", as: Int64.self))
        let again = try site.owner.get("/dashboard/webhooks/\(id)")
        #expect(again.status == 200 && !again.text.contains("whsec_"), "the secret is shown once")
        return (id, secret)
    }

    /// The seconds of a signature header's `t=`.
    static func timestamp(_ header: String) -> Int64 { Int64(header.dropFirst(2).prefix { $0 != "," }) ?? 0 }

    /// A receiver's check, written from the README (as its Python snippet does it), apart from
    /// Intake's own `WebhookSignature` (which the unit tests use): the header's time within 300 s
    /// of `now`, and its `v1` the hex HMAC-SHA256 of "<t>.<raw body>" under the secret, compared
    /// in constant time.
    enum Receiver {
        static func verify(header: String, body: [UInt8], secret: String, now: Int64) -> Bool {
            let fields = Dictionary(header.split(separator: ",").map { $0.split(separator: "=", maxSplits: 1).map(String.init) }
                .filter { $0.count == 2 }.map { ($0[0], $0[1]) }, uniquingKeysWith: { first, _ in first })
            guard let t = fields["t"].flatMap({ Int64($0) }), let v1 = fields["v1"], abs(now - t) <= 300 else { return false }
            let expected = Sodium.hex(Digest.hmacSHA256(key: Array(secret.utf8), Array("\(t).".utf8) + body))
            return Sodium.constantTimeEqual(Array(expected.utf8), Array(v1.utf8))
        }
    }

    @Test("an upload is delivered as a signed upload.completed; 500, 500, then 200 is three attempts on the schedule, each on the page; test event and send again; another owner gets 404; no secret in any log")
    func uploadRetriedAndLogged() throws {
        let answers = Mutex<[Int]>([500, 500, 200])
        let received = Mutex<[LoopbackRequest]>([])
        let receiver = try LoopbackHTTPServer { request in
            received.withLock { $0.append(request) }
            let status = request.headers["intake-event"] == "upload.completed" ? answers.withLock { $0.isEmpty ? 200 : $0.removeFirst() } : 200
            return LoopbackResponse(status: status, body: Array((status == 200 ? "thanks" : "<script>alert(1)</script> down").utf8))
        }
        defer { receiver.stop() }
        let sink = try SMTPSink()
        defer { sink.stop() }
        let site = try site(sink)
        defer { site.server.stop() }
        let (id, secret) = try register(site, url: receiver.baseURL + "/hook", events: ["upload.completed", "portal.deactivated"])

        let bytes = Array("%PDF-1.7\nquarterly figures\n".utf8)
        let upload = try site.upload([("q3.pdf", bytes)])
        #expect(upload.status == 200, "\(upload.text.prefix(300))")
        #expect(try site.db.scalar("SELECT count(*) FROM webhook_deliveries WHERE status = 'pending' AND type = 'upload.completed'", as: Int.self) == 1,
                "queued with the upload, sent by the jobs")
        var jobOutput = ""
        jobOutput += try BillingJobsTests().runJobs(site, ahead: 61)      // first attempt: 500
        jobOutput += try BillingJobsTests().runJobs(site, ahead: 131)     // a minute later: 500
        jobOutput += try BillingJobsTests().runJobs(site, ahead: 300)     // not yet five minutes after the second
        #expect(received.withLock { $0.count } == 2)
        jobOutput += try BillingJobsTests().runJobs(site, ahead: 441)     // five minutes after: 200
        let requests = received.withLock { $0 }
        #expect(requests.count == 3)
        let eventID = try #require(try site.db.scalar("SELECT event_id FROM webhook_deliveries", as: String.self))
        for request in requests {
            #expect(request.method == "POST" && request.path == "/hook" && request.headers["intake-delivery"] == eventID)
            let header = try #require(request.headers["intake-signature"])
            #expect(Receiver.verify(header: header, body: request.body, secret: secret, now: Self.timestamp(header)))
        }
        let body = requests[2].body, text = String(decoding: body, as: UTF8.self)
        #expect(text.contains(#""type":"upload.completed""#) && text.contains(#""portal_slug":"demo""#) && text.contains(#""name":"q3.pdf""#))
        #expect(text.contains(#""sha256":"\#(Sodium.hex(Digest.sha256(bytes)))""#) && text.contains(#""status":"uploaded""#))
        #expect(!text.contains("token") && !text.contains("secret"))
        let signature = try #require(requests[2].headers["intake-signature"])
        #expect(!Receiver.verify(header: signature, body: body + [0x20], secret: secret, now: Self.timestamp(signature)), "a changed body is refused")
        #expect(!Receiver.verify(header: signature, body: body, secret: secret, now: Self.timestamp(signature) + 301),
                "so is the same request replayed after five minutes")

        let page = try site.owner.get("/dashboard/webhooks/\(id)")
        #expect(page.status == 200)
        #expect(page.text.components(separatedBy: #"class="webhook-attempt""#).count - 1 == 3)
        #expect(page.text.components(separatedBy: "HTTP 500").count - 1 == 2 && page.text.contains("HTTP 200") && page.text.contains("Delivered"))
        #expect(page.text.contains("&lt;script&gt;alert(1)&lt;/script&gt; down") && !page.text.contains("<script>alert(1)"), "the answer is escaped")

        // Send test event: sent by the request itself; send again: the same event id once more.
        let test = try site.owner.post("/dashboard/webhooks/\(id)/test", form: [])
        #expect(test.status == 303)
        #expect(received.withLock { $0.last?.headers["intake-event"] } == "webhook.test")
        let deliveryID = try #require(try site.db.scalar("SELECT id FROM webhook_deliveries WHERE type = 'upload.completed'", as: Int64.self))
        _ = try site.owner.get("/dashboard/webhooks/\(id)")
        let again = try site.owner.post("/dashboard/webhooks/\(id)/deliveries/\(deliveryID)/resend", form: [])
        #expect(again.status == 303)
        #expect(received.withLock { $0.count } == 5 && received.withLock { $0.last?.headers["intake-delivery"] } == eventID)
        #expect(try site.owner.post("/dashboard/webhooks/\(id)/test", form: [], csrf: .none).status == 403, "posts need the CSRF token")

        // A portal switched off by its owner is an event too, written with the change.
        _ = try site.owner.get("/dashboard/portals")
        #expect(try site.owner.post("/dashboard/portals/1/toggle", form: []).status == 303)
        #expect(try site.db.scalar("SELECT count(*) FROM webhook_deliveries WHERE type = 'portal.deactivated'", as: Int.self) == 1)

        // Another owner: every one of these ids is "not found", and nothing changes.
        try site.server.createUser(email: "mallory@example.com", name: "Mallory")
        let mallory = site.server.session()
        _ = try mallory.get("/login")
        _ = try mallory.post("/login", form: [("email", "mallory@example.com"), ("password", "correct horse battery")])
        #expect(try mallory.get("/dashboard/webhooks/\(id)").status == 404)
        _ = try mallory.get("/dashboard/webhooks")
        for action in ["toggle", "delete", "rotate-secret", "test", "deliveries/\(deliveryID)/resend"] {
            #expect(try mallory.post("/dashboard/webhooks/\(id)/\(action)", form: []).status == 404, "\(action)")
        }
        #expect(try site.db.scalar("SELECT count(*) FROM webhook_endpoints WHERE id = $1 AND enabled = 1", [id], as: Int.self) == 1)
        #expect(try mallory.get("/dashboard/webhooks/999999").status == 404)

        // Rotating shows a new secret once; the old one no longer verifies what is sent next.
        _ = try site.owner.get("/dashboard/webhooks/\(id)")
        let rotated = try site.owner.post("/dashboard/webhooks/\(id)/rotate-secret", form: [])
        let fresh = try #require(rotated.text.range(of: #"whsec_[A-Za-z0-9_-]{43}"#, options: .regularExpression).map { String(rotated.text[$0]) })
        #expect(fresh != secret)
        #expect(try site.owner.post("/dashboard/webhooks/\(id)/test", form: []).status == 303)
        let signed = try #require(received.withLock { $0.last })
        let header = try #require(signed.headers["intake-signature"])
        #expect(Receiver.verify(header: header, body: signed.body, secret: fresh, now: Self.timestamp(header)))
        #expect(!Receiver.verify(header: header, body: signed.body, secret: secret, now: Self.timestamp(header)), "the old secret no longer signs")

        // The secrets are in no log: the server's, nginx's, the jobs' output.
        site.server.stop()
        var logs = jobOutput + site.server.serveLogText()
        for file in IntakeTestServer.files(under: site.server.home + "/nginx/logs") {
            logs += (try? String(contentsOfFile: file, encoding: .utf8)) ?? ""
        }
        #expect(logs.contains("webhook"), "the logs were read (the sender logs its failed attempts)")
        #expect(!logs.contains(secret) && !logs.contains(fresh) && !logs.contains(String(secret.dropFirst(6))))
        #expect(!logs.contains("v1="), "nor any signature")
    }

    @Test("an endpoint whose every attempt fails for three days is switched off and its owner is mailed")
    func switchedOffAfterThreeDays() throws {
        let receiver = try LoopbackHTTPServer { _ in LoopbackResponse(status: 503, body: Array("maintenance".utf8)) }
        defer { receiver.stop() }
        let sink = try SMTPSink()
        defer { sink.stop() }
        let site = try site(sink)
        defer { site.server.stop() }
        let (id, _) = try register(site, url: receiver.baseURL + "/down", events: ["upload.completed"])
        _ = try site.owner.get("/dashboard/webhooks/\(id)")
        #expect(try site.owner.post("/dashboard/webhooks/\(id)/test", form: []).status == 303)
        #expect(try site.db.scalar("SELECT count(*) FROM webhook_endpoints WHERE failing_since IS NOT NULL", as: Int.self) == 1)
        let early = try BillingJobsTests().runJobs(site, ahead: 2 * 86400)
        #expect(early.contains("0 endpoints switched off"), "\(early)")
        let output = try BillingJobsTests().runJobs(site, ahead: 3 * 86400 + 120)
        #expect(output.contains("1 endpoints switched off"), "\(output)")
        #expect(try site.db.scalar("SELECT enabled FROM webhook_endpoints WHERE id = $1", [id], as: Int64.self) == 0)
        let mail = try #require(sink.messages.first { $0.data.contains("A webhook endpoint was switched off") })
        #expect(mail.to == ["owner@example.com"] && mail.data.contains("/dashboard/webhooks/\(id)"))
        // Three days on, the owner's session has expired too: sign in again.
        let owner = site.server.session()
        try BillingJobsTests().signIn(owner, site, as: "user")
        let page = try owner.get("/dashboard/webhooks/\(id)")
        #expect(page.text.contains("Every attempt failed for three days") && page.text.contains("Switch on"))
        // A switched-off endpoint takes no new events.
        #expect(try site.upload([("late.txt", Array("late\n".utf8))]).status == 200)
        #expect(try site.db.scalar("SELECT count(*) FROM webhook_deliveries WHERE type = 'upload.completed'", as: Int.self) == 0)
    }
}
