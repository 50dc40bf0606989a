import Curl
import Database
import Foundation
import Integrations
import Sodium
import Synchronization
import Testing
@testable import Intake
import TestSupport

@Suite("Webhooks: signature, schedule, destinations, payloads, the outbox and the sender")
struct WebhookTests {
    static let secret = "whsec_" + String(repeating: "k", count: 43)

    @Suite("The Intake-Signature header and its verifier")
    struct Signature {
        let body = Array(#"{"id":"evt_1","type":"upload.completed"}"#.utf8)

        @Test("a header made by the sender verifies; the HMAC is over \"<t>.<body>\" with the secret's bytes as key")
        func roundTrip() throws {
            let header = WebhookSignature.header(secret: WebhookTests.secret, timestamp: 1_800_000_000, body: body)
            let expected = Sodium.hex(Digest.hmacSHA256(key: Array(WebhookTests.secret.utf8), Array("1800000000.".utf8) + body))
            #expect(header == "t=1800000000,v1=\(expected)")
            try WebhookSignature.verify(header: header, body: body, secret: WebhookTests.secret, now: 1_800_000_000)
            try WebhookSignature.verify(header: header, body: body, secret: WebhookTests.secret, now: 1_800_000_300)
        }

        @Test("refused: older or newer than 300 s, a changed body, another secret, a changed time, a malformed header",
              arguments: [
                (1_800_000_301 as Int64, "body", "secret", "t", WebhookSignature.Failure.outsideTolerance),
                (1_799_999_699, "body", "secret", "t", .outsideTolerance),
                (1_800_000_000, "changed", "secret", "t", .mismatch),
                (1_800_000_000, "body", "other", "t", .mismatch),
                (1_800_000_000, "body", "secret", "t+1", .mismatch),
                (1_800_000_000, "body", "secret", "none", .malformed),
              ])
        func refused(_ now: Int64, _ bodyCase: String, _ secretCase: String, _ headerCase: String, _ failure: WebhookSignature.Failure) {
            var header = WebhookSignature.header(secret: WebhookTests.secret, timestamp: 1_800_000_000, body: body)
            if headerCase == "t+1" { header = header.replacingOccurrences(of: "t=1800000000", with: "t=1800000001") }
            if headerCase == "none" { header = "v1=abc" }
            let received = bodyCase == "changed" ? body + Array(" ".utf8) : body
            let secret = secretCase == "other" ? "whsec_other" : WebhookTests.secret
            #expect(throws: failure) {
                try WebhookSignature.verify(header: header, body: received, secret: secret, now: now)
            }
        }

        @Test("during a rotation a header may carry several v1; any one matching passes")
        func several() throws {
            let good = WebhookSignature.hmac(secret: WebhookTests.secret, timestamp: 5, body: body)
            try WebhookSignature.verify(header: "t=5,v1=\(String(repeating: "0", count: 64)),v1=\(good)", body: body, secret: WebhookTests.secret, now: 5)
        }
    }

    @Test("the schedule: 1 min, 5 min, 30 min, 2 h, 5 h, then 10 h; nothing after the day is over")
    func schedule() {
        #expect((1...8).map(WebhookSchedule.delay(afterAttempt:)) == [60, 300, 1800, 7200, 18000, 36000, 36000, 36000])
        let created: Int64 = 1000, until = created + WebhookSchedule.windowSeconds
        var now = created, attempt = 0, times: [Int64] = []
        while true {
            attempt += 1
            times.append(now - created)
            guard let next = WebhookSchedule.nextAttempt(after: attempt, now: now, until: until) else { break }
            now = next
        }
        #expect(times == [0, 60, 360, 2160, 9360, 27360, 63360], "seven attempts within the day")
        #expect(WebhookSchedule.disableAfterSeconds == 3 * 86400)
    }

    @Suite("Destinations")
    struct Destinations {
        @Test("refused with the setting off: private, loopback, link-local and reserved literals, localhost, http, credentials",
              arguments: [
                ("https://127.0.0.1/hook", "loopback, private or link-local"), ("https://10.1.2.3/hook", "loopback, private or link-local"),
                ("https://192.168.1.20:8443/x", "loopback, private or link-local"), ("https://172.20.0.1/", "loopback, private or link-local"),
                ("https://169.254.169.254/latest/meta-data", "loopback, private or link-local"), ("https://100.64.0.1/", "loopback, private or link-local"),
                ("https://0.0.0.0/", "loopback, private or link-local"), ("https://[::1]/hook", "loopback, private or link-local"),
                ("https://[fd00::1]/hook", "loopback, private or link-local"), ("https://[fe80::1]/hook", "loopback, private or link-local"),
                ("https://[::ffff:127.0.0.1]/hook", "loopback, private or link-local"),
                ("https://localhost/hook", "this server itself"), ("https://api.localhost./hook", "this server itself"),
                ("http://example.com/hook", "Use an https:// URL"), ("ftp://example.com/", "must start with https://"),
                ("https://user:pw@example.com/", "no user name or password"), ("https://example.com:99999/", "port must be"),
                ("https:///path", "no host name"), ("https://exa mple.com/", "spaces"),
              ])
        func refused(_ url: String, _ message: String) {
            do {
                _ = try WebhookDestination(url, allowPrivate: false)
                Issue.record("\(url) was accepted")
            } catch {
                #expect(error.field == "url")
                #expect(error.message.contains(message), "\(url): \(error.message)")
            }
        }

        @Test("accepted: public https hosts and addresses; with INTAKE_WEBHOOKS_ALLOW_PRIVATE also http and private ones")
        func accepted() throws {
            let d = try WebhookDestination("https://Hooks.Example.com:8443/intake?x=1", allowPrivate: false)
            #expect(d.host == "hooks.example.com" && d.port == 8443 && d.scheme == "https")
            #expect(try WebhookDestination("https://93.184.216.34/h", allowPrivate: false).port == 443)
            #expect(try WebhookDestination("https://[2606:4700::1111]/h", allowPrivate: false).host == "2606:4700::1111")
            let local = try WebhookDestination("http://127.0.0.1:8080/h", allowPrivate: true)
            #expect(local.port == 8080 && local.pin([NetworkAddress("127.0.0.1")!]) == "127.0.0.1:8080:127.0.0.1")
        }

        @Test("at send time a name resolving to any private address is refused, naming it; public ones are pinned")
        func resolution() throws {
            let d = try WebhookDestination("https://hooks.example.com/x", allowPrivate: false)
            #expect(throws: WebhookSendRefusal.self) {
                _ = try d.addresses(allowPrivate: false) { _ in [NetworkAddress("93.184.216.34")!, NetworkAddress("10.0.0.5")!] }
            }
            let found = try d.addresses(allowPrivate: false) { _ in [NetworkAddress("93.184.216.34")!, NetworkAddress("2606:4700::1111")!] }
            #expect(d.pin(found) == "hooks.example.com:443:93.184.216.34,[2606:4700::1111]")
        }
    }

    @Test("payloads: id, type, created and data with the object's public fields, keys sorted")
    func payloads() throws {
        let file = WebhookPayloads.file(id: 7, portalID: 3, portalSlug: "tax-2026", name: "report.pdf", size: 1234, sha256: "ab12", status: "uploaded",
                                        created: 1_800_000_000)
        let body = WebhookEvents.payload(id: "evt_x", type: .uploadCompleted, created: 1_800_000_001, data: file)
        #expect(body == #"{"created":1800000001,"data":{"created":1800000000,"id":7,"name":"report.pdf","object":"file","portal_id":3,"portal_slug":"tax-2026","sha256":"ab12","size":1234,"status":"uploaded"},"id":"evt_x","type":"upload.completed"}"#)
        let portal = WebhookEvents.payload(id: "evt_y", type: .portalDeactivated, created: 5,
                                           data: WebhookPayloads.portal(id: 1, slug: "demo", name: "Demo/uploads", active: false, automatic: true, reason: nil))
        #expect(portal.contains(#""automatic":true"#) && portal.contains(#""reason":null"#) && portal.contains(#""name":"Demo/uploads""#))
    }

    /// An owner with an endpoint on `url` taking `events`; the endpoint and its secret.
    static func owner(_ db: any Database, _ clock: ManualClock, key: [UInt8], email: String = "owner@example.com", url: String,
                      events: [WebhookEventType] = [.uploadCompleted]) throws -> (userID: Int64, endpoint: WebhookEndpoint, secret: String) {
        let user = try UserStore(db: db, clock: clock).create(email: email, name: "Owner", password: "correct horse battery", role: .user)
        let created = try WebhookEndpoints(db: db, clock: clock, secretKey: key).create(
            userID: user.id, url: url, description: "", events: events.map(\.rawValue), allowPrivate: true,
            by: AuditLog.Actor(userID: user.id, remoteAddress: "")).get()
        return (user.id, created.endpoint, created.secret)
    }

    @Test("endpoints: the secret is sealed at rest and found only by its owner; events go to subscribed enabled endpoints, in the caller's transaction")
    func endpointsAndEvents() throws {
        try withDatabase { db in
            let clock = ManualClock(), key = Sodium.randomBytes(32)
            let (ownerID, endpoint, secret) = try Self.owner(db, clock, key: key, url: "https://hooks.example.com/a")
            #expect(secret.hasPrefix("whsec_") && secret.count == 6 + 43)
            let sealed = try #require(try db.scalar("SELECT secret_sealed FROM webhook_endpoints", as: [UInt8].self))
            #expect(!String(decoding: sealed, as: UTF8.self).contains(secret.dropFirst(6)), "not stored in the clear")
            let store = WebhookEndpoints(db: db, clock: clock, secretKey: key)
            #expect(try store.secret(endpointID: endpoint.id) == secret)
            let other = try UserStore(db: db, clock: clock).create(email: "other@example.com", name: "Other", password: "correct horse battery", role: .user)
            #expect(try store.find(id: endpoint.id, userID: other.id) == nil)
            #expect(try store.setEnabled(id: endpoint.id, userID: other.id, enabled: false, by: AuditLog.Actor(userID: other.id, remoteAddress: "")) == false)
            #expect(try store.delete(id: endpoint.id, userID: other.id, by: AuditLog.Actor(userID: other.id, remoteAddress: "")) == false)
            #expect(try store.rotateSecret(id: endpoint.id, userID: other.id, by: AuditLog.Actor(userID: other.id, remoteAddress: "")) == nil)

            let events = WebhookEvents(db: db, clock: clock)
            #expect(try events.emit(userID: ownerID, type: .portalDeactivated, data: [:]) == nil, "not subscribed")
            #expect(try events.emit(userID: other.id, type: .uploadCompleted, data: [:]) == nil, "no endpoint")
            struct Rollback: Error {}
            #expect(throws: Rollback.self) {
                try db.write {
                    try events.emit(userID: ownerID, type: .uploadCompleted, data: ["id": 1])
                    throw Rollback()
                }
            }
            #expect(try db.scalar("SELECT count(*) FROM webhook_deliveries", as: Int.self) == 0, "rolled back with the change")
            #expect(try events.emit(userID: ownerID, type: .uploadCompleted, data: ["id": 1])?.hasPrefix("evt_") == true)
            _ = try store.setEnabled(id: endpoint.id, userID: ownerID, enabled: false, by: AuditLog.Actor(userID: ownerID, remoteAddress: ""))
            #expect(try events.emit(userID: ownerID, type: .uploadCompleted, data: ["id": 2]) == nil, "an endpoint switched off takes nothing")
            #expect(try db.scalar("SELECT count(*) FROM webhook_deliveries", as: Int.self) == 1)
            let fresh = try #require(try store.rotateSecret(id: endpoint.id, userID: ownerID, by: AuditLog.Actor(userID: ownerID, remoteAddress: "")))
            let unsealed = try store.secret(endpointID: endpoint.id)
            #expect(fresh != secret && unsealed == fresh)
        }
    }

    @Test("events are written where their change happens: a storage account's state and the portals it switches, the owner's switch, a purchase")
    func eventSources() throws {
        try withDatabase { db in
            let clock = ManualClock(), key = Sodium.randomBytes(32)
            let (ownerID, endpoint, _) = try Self.owner(db, clock, key: key, url: "https://hooks.example.com/a",
                                                        events: [.storageAccountStatusChanged, .portalDeactivated, .portalReactivated, .purchaseCompleted])
            let actor = AuditLog.Actor(userID: ownerID, remoteAddress: "")
            let accounts = StorageAccountStore(db: db, clock: clock)
            let account = try accounts.createOrGet(userID: ownerID, provider: .local, providerAccountID: "local", email: nil, displayName: "Local disk", by: actor).account
            let portalID = try #require(try db.scalar("""
                INSERT INTO portals (user_id, name, slug, storage_account_id, created_at, updated_at) VALUES ($1, 'Tax', 'tax', $2, 0, 0) RETURNING id
                """, [ownerID, account.id], as: Int64.self))
            func sent() throws -> [(type: String, payload: String)] {
                try db.query("SELECT type, payload FROM webhook_deliveries WHERE endpoint_id = $1 ORDER BY id", [endpoint.id]).map {
                    (try $0.get("type"), try $0.get("payload"))
                }
            }
            _ = try accounts.handleStatusChange(accountID: account.id, event: .temporaryFailure, reason: "the disk is gone", by: actor)
            var events = try sent()
            #expect(events.map(\.type) == ["portal.deactivated", "storage_account.status_changed"])
            #expect(events[0].payload.contains(#""automatic":true"#) && events[0].payload.contains(#""slug":"tax""#))
            #expect(events[1].payload.contains(#""previous_status":"ACTIVE""#) && events[1].payload.contains(#""status":"ERROR""#)
                    && events[1].payload.contains(#""reason":"the disk is gone""#))
            _ = try accounts.handleStatusChange(accountID: account.id, event: .providerReachable, reason: nil, by: actor)
            events = try sent()
            #expect(events.map(\.type).suffix(2) == ["portal.reactivated", "storage_account.status_changed"])

            try PortalStore(db: db, clock: clock).setActive(id: portalID, active: false, by: actor)
            try PortalStore(db: db, clock: clock).setActive(id: portalID, active: false, by: actor)
            events = try sent()
            #expect(events.count == 5 && events[4].type == "portal.deactivated" && events[4].payload.contains(#""automatic":false"#), "once per change")

            let usd = Currency(code: "USD")!
            let pricing = StoragePricingStore(db: db, clock: clock, currency: usd)
            var price = StoragePricing.defaults(currency: usd)
            price.pricePerGB = Money(minorUnits: 100, currency: usd)
            try pricing.save(price, by: actor)
            try BalanceLedger(db: db, clock: clock).adjust(userID: ownerID, amount: Money(minorUnits: 1000, currency: usd), reason: "Top-up", by: actor)
            try StoragePurchases(db: db, clock: clock, pricing: pricing).buy(userID: ownerID, gb: 3, expectedCostMinor: 300, by: actor)
            events = try sent()
            #expect(events.count == 6 && events[5].type == "purchase.completed")
            #expect(events[5].payload.contains(#""gb":3"#) && events[5].payload.contains(#""cost_minor":300"#) && events[5].payload.contains(#""currency":"USD""#))
        }
    }

    @Test("a file's delivery failing for good writes delivery.failed with the reason; delivered after the owner's retry, upload.completed")
    func deliveryEvents() throws {
        try withDatabase { db in
            let base = DeliveriesTests()
            let s = try base.setup(db)
            defer { try? FileManager.default.removeItem(atPath: s.world.root) }
            let ownerID = s.world.portal.userID
            let endpoint = try WebhookEndpoints(db: db, clock: s.world.clock, secretKey: Sodium.randomBytes(32)).create(
                userID: ownerID, url: "https://hooks.example.com/files", description: "", events: ["delivery.failed", "upload.completed"],
                allowPrivate: false, by: AuditLog.Actor(userID: ownerID, remoteAddress: "")).get().endpoint
            s.storage.failures.withLock { $0 = Array(repeating: StorageProviderError("Drive refused the file", transient: true), count: 2) }
            let file = try base.receive(s, base.pdf)
            let deliveries = Deliveries(env: s.env)
            s.world.clock.advance(3601)  // past the delivery window
            #expect(try deliveries.attempt(file.uploadID) == .failed("Drive refused the file"))
            #expect(try deliveries.retry(file.uploadID))
            #expect(try deliveries.runDue() == 1)
            let events = try db.query("SELECT type, payload FROM webhook_deliveries WHERE endpoint_id = $1 ORDER BY id", [endpoint.id])
            #expect(try events.map { try $0.get("type", as: String.self) } == ["delivery.failed", "upload.completed"])
            let failed: String = try events[0].get("payload"), completed: String = try events[1].get("payload")
            #expect(failed.contains(#""failure_reason":"Drive refused the file""#) && failed.contains(#""status":"failed""#)
                    && failed.contains(#""id":\#(file.uploadID)"#))
            #expect(completed.contains(#""status":"uploaded""#) && completed.contains(#""name":"report.pdf""#) && completed.contains(#""size":\#(base.pdf.count)"#))
        }
    }

    @Test("a private-address URL is refused with a clear message when INTAKE_WEBHOOKS_ALLOW_PRIVATE is off, and nothing is written")
    func privateRefused() throws {
        try withDatabase { db in
            let clock = ManualClock()
            let user = try UserStore(db: db, clock: clock).create(email: "o@example.com", name: "O", password: "correct horse battery", role: .user)
            let result = try WebhookEndpoints(db: db, clock: clock, secretKey: Sodium.randomBytes(32)).create(
                userID: user.id, url: "https://192.168.0.10/hook", description: "", events: ["upload.completed"], allowPrivate: false,
                by: AuditLog.Actor(userID: user.id, remoteAddress: ""))
            guard case .failure(let errors) = result else { Issue.record("accepted"); return }
            #expect(errors["url"] == "192.168.0.10 is a loopback, private or link-local address: Intake sends events only to addresses on the public internet.")
            #expect(try db.scalar("SELECT count(*) FROM webhook_endpoints", as: Int.self) == 0)
        }
    }

    @Test("the sender over libcurl to a loopback receiver: signed headers, 500 twice then 200 is three attempts on the schedule, each logged")
    func sender() throws {
        let answers = Mutex<[Int]>([500, 500, 200])
        let received = Mutex<[LoopbackRequest]>([])
        let receiver = try LoopbackHTTPServer { request in
            received.withLock { $0.append(request) }
            let status = answers.withLock { $0.isEmpty ? 200 : $0.removeFirst() }
            return LoopbackResponse(status: status, body: Array((status == 200 ? "ok" : "<b>boom</b>\u{1}" + String(repeating: "x", count: 2000)).utf8))
        }
        defer { receiver.stop() }
        try withDatabase { db in
            let clock = ManualClock(), key = Sodium.randomBytes(32)
            // A name no DNS knows, pinned by the sender to what the test's resolver says.
            let (ownerID, endpoint, secret) = try Self.owner(db, clock, key: key, url: "http://hooks.webhook.test:\(receiver.port)/in")
            let eventID = try #require(try WebhookEvents(db: db, clock: clock).emit(userID: ownerID, type: .uploadCompleted, data: ["id": 9]))
            // The first address answers nothing (a closed port of 127.0.0.2): curl goes on to the next pinned one.
            let sender = WebhookSender(db: db, clock: clock, secretKey: key, http: try CurlClient(), allowPrivate: true) { host in
                #expect(host == "hooks.webhook.test")
                return [NetworkAddress("127.0.0.2")!, NetworkAddress("127.0.0.1")!]
            }
            #expect(try sender.sendDue() == { var r = WebhookSender.Report(); r.retrying = 1; return r }())
            #expect(try sender.sendDue().retrying == 0, "not due before a minute")
            clock.advance(60)
            #expect(try sender.sendDue().retrying == 1)
            clock.advance(299)
            #expect(try sender.sendDue().delivered == 0)
            clock.advance(1)
            #expect(try sender.sendDue().delivered == 1)
            #expect(try sender.sendDue() == WebhookSender.Report(), "sent once")

            let requests = received.withLock { $0 }
            #expect(requests.count == 3)
            for request in requests {
                #expect(request.method == "POST" && request.path == "/in")
                #expect(request.headers["content-type"] == "application/json" && request.headers["intake-event"] == "upload.completed")
                #expect(request.headers["intake-delivery"] == eventID)
                let signature = try #require(request.headers["intake-signature"])
                let sent = try #require(Int64(signature.dropFirst(2).prefix { $0 != "," }))
                try WebhookSignature.verify(header: signature, body: request.body, secret: secret, now: sent + 5)
            }
            let last = try #require(requests.last?.headers["intake-signature"]), first = try #require(requests.first?.headers["intake-signature"])
            try WebhookSignature.verify(header: last, body: requests[2].body, secret: secret, now: clock.now())
            #expect(throws: WebhookSignature.Failure.outsideTolerance, "the first request, replayed 6 minutes later") {
                try WebhookSignature.verify(header: first, body: requests[0].body, secret: secret, now: clock.now())
            }
            let log = try WebhookDeliveries(db: db, clock: clock).recent(endpointID: endpoint.id, userID: ownerID)
            #expect(log.count == 1 && log[0].status == "delivered" && log[0].attempts == 3)
            #expect(log[0].log.map(\.statusCode) == [500, 500, 200])
            #expect(log[0].log[0].responseExcerpt.hasPrefix("<b>boom</b> xx") && log[0].log[0].responseExcerpt.count == WebhookSender.excerptBytes)
            #expect(try db.scalar("SELECT count(*) FROM webhook_endpoints WHERE failing_since IS NULL", as: Int.self) == 1, "a success clears the failures")
            #expect(throws: (any Error).self, "the attempt log is append-only") {
                try db.execute("UPDATE webhook_attempts SET status_code = 200")
            }
            // Kept 30 days, then removed with its attempts; a pending one stays whatever its age.
            try WebhookEvents(db: db, clock: clock).emit(userID: ownerID, type: .uploadCompleted, data: ["id": 10])
            try db.execute("UPDATE webhook_deliveries SET next_attempt_at = $1 WHERE status = 'pending'", [clock.now() + 90 * 86400])
            clock.advance(1_800_000_000 + WebhookSchedule.retentionSeconds - clock.now())  // the delivered event is 30 days old
            #expect(try sender.removeOld() == 0)
            clock.advance(1)
            #expect(try sender.removeOld() == 1)
            #expect(try db.scalar("SELECT count(*) FROM webhook_attempts", as: Int.self) == 0)
            #expect(try db.scalar("SELECT status FROM webhook_deliveries", as: String.self) == "pending")
        }
    }

    @Test("8 runners at once, each with its own connection and libcurl handle, over 40 due deliveries: each is sent exactly once")
    func concurrentRunners() throws {
        let received = Mutex<[String]>([])
        let receiver = try LoopbackHTTPServer { request in
            usleep(3_000)  // an answer takes a while: the other runners are choosing meanwhile
            received.withLock { $0.append(request.headers["intake-delivery"] ?? "") }
            return LoopbackResponse(status: 204)
        }
        defer { receiver.stop() }
        try withDatabase { db in
            let clock = ManualClock(), key = Sodium.randomBytes(32)
            let (ownerID, _, _) = try Self.owner(db, clock, key: key, url: receiver.baseURL + "/in")
            var events: [String] = []
            for i in 0..<40 { events.append(try #require(try WebhookEvents(db: db, clock: clock).emit(userID: ownerID, type: .uploadCompleted, data: ["id": i]))) }
            let location = db.location
            let delivered = Mutex(0)
            let failures = Mutex<[String]>([])
            onThreads(8) { _ in
                do {
                    let sender = WebhookSender(db: try location.open(), clock: clock, secretKey: key, http: try CurlClient(), allowPrivate: true)
                    let report = try sender.sendDue()
                    delivered.withLock { $0 += report.delivered }
                } catch {
                    failures.withLock { $0.append("\(error)") }
                }
            }
            #expect(failures.withLock { $0 }.isEmpty, "\(failures.withLock { $0 })")
            #expect(received.withLock { $0 }.sorted() == events.sorted(), "each once: \(received.withLock { $0 }.count) requests")
            #expect(delivered.withLock { $0 } == 40)
            #expect(try db.scalar("SELECT count(*) FROM webhook_attempts", as: Int.self) == 40)
            #expect(try db.scalar("SELECT count(*) FROM webhook_deliveries WHERE status = 'delivered' AND attempts = 1", as: Int.self) == 40)
        }
    }

    @Test("a name resolving to a private address is not sent to with the setting off; three days of failures switch the endpoint off and mail the owner")
    func refusedAndSwitchedOff() throws {
        let hits = Mutex(0)
        let receiver = try LoopbackHTTPServer { _ in hits.withLock { $0 += 1 }; return LoopbackResponse(status: 200) }
        defer { receiver.stop() }
        try withDatabase { db in
            let clock = ManualClock(), key = Sodium.randomBytes(32)
            let (ownerID, endpoint, _) = try Self.owner(db, clock, key: key, url: "https://hooks.example.com:\(receiver.port)/in")
            let sender = WebhookSender(db: db, clock: clock, secretKey: key, http: try CurlClient(), allowPrivate: false) { _ in [NetworkAddress("127.0.0.1")!] }
            try WebhookEvents(db: db, clock: clock).emit(userID: ownerID, type: .uploadCompleted, data: [:])
            #expect(try sender.sendDue().retrying == 1)
            #expect(hits.withLock { $0 } == 0, "never connected")
            let error = try #require(try db.scalar("SELECT error FROM webhook_attempts", as: String.self))
            #expect(error.contains("resolves to 127.0.0.1, a loopback, private or link-local address"))

            // Every attempt fails for three days: the day's retries end in "failed", then the endpoint goes off.
            var passes = 0
            while clock.now() < 1_800_000_000 + 3 * 86400 - 3600 {
                clock.advance(3600)
                _ = try sender.sendDue()
                #expect(try sender.disableFailing(dashboardURL: "https://intake.example.com/dashboard/webhooks") == 0)
                passes += 1
            }
            #expect(try db.scalar("SELECT status FROM webhook_deliveries", as: String.self) == "failed")
            #expect(try db.scalar("SELECT attempts FROM webhook_deliveries", as: Int.self) == 7)
            clock.advance(3600)
            #expect(try sender.disableFailing(dashboardURL: "https://intake.example.com/dashboard/webhooks") == 1)
            #expect(try sender.disableFailing(dashboardURL: "https://intake.example.com/dashboard/webhooks") == 0, "once")
            let off = try #require(try WebhookEndpoints(db: db, clock: clock, secretKey: key).find(id: endpoint.id, userID: ownerID))
            #expect(!off.enabled && off.disabledReason == "Every attempt failed for three days")
            let mail = try #require(try db.queryOne("SELECT to_address, subject, body FROM mail_outbox"))
            #expect(try mail.get("to_address", as: String.self) == "owner@example.com")
            #expect(try mail.get("subject", as: String.self).hasPrefix("A webhook endpoint was switched off"))
            #expect(try mail.get("body", as: String.self).contains("https://intake.example.com/dashboard/webhooks/\(endpoint.id)"))
        }
    }
}
