import Checksums
import Database
import Foundation
import Sodium
import Synchronization
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// Two hosts — two `intake serve`, each with its own hostname (a UTS namespace), `INTAKE_HOME`
/// and socket — on one PostgreSQL database behind one nginx `upstream`, with the spool and the
/// secret key shared as the README's multi-host layout says. The owner's Google Drive is the fake.
@Suite("Two hosts on one PostgreSQL behind one nginx", .serialized,
       .enabled(if: integrationEnabled && TestDatabases.onPostgreSQL, "set INTAKE_INTEGRATION=1 and INTAKE_TEST_DATABASE_URL (scripts/test does)"))
struct TwoHostTests {
    static let mib = 1024 * 1024
    /// The job leader's lease (`Jobs.leaseSeconds`).
    static let jobsLease = 60.0

    func site(tokenLifetime: Int = 3600, environment: [String: String] = [:]) throws -> CloudSetup<FakeDriveServer> {
        try CloudSetup<FakeDriveServer>.drive(workers: 2, hosts: 2, tokenLifetime: tokenLifetime, environment: environment)
    }

    /// The hosts (0, 1) whose log shows a request for exactly `path`.
    func servedBy(_ server: IntakeTestServer, _ path: String) -> Set<Int> {
        Set((0..<server.hostCount).filter { host in
            server.serveLogText(host: host).split(separator: "\n").contains { line in
                line.split(separator: " ").contains { $0 == "path=\(path)" }
            }
        })
    }

    func cookie(_ browser: WebSession) -> (String, String) { ("Cookie", "intake_session=\(browser.cookies["intake_session"]!)") }

    @Test("a session and its CSRF token made on one host work on the other: 40 pages and 20 form posts spread over both hosts all succeed; posts without the token are refused on both")
    func sessionsAcrossHosts() throws {
        let setup = try site()
        defer { setup.stop() }
        let server = setup.server, browser = setup.owner
        let pages = Mutex<[Int]>([])
        DispatchQueue.concurrentPerform(iterations: 40) { _ in
            let r = try? HTTPClient.request(port: server.port, path: "/dashboard", headers: [cookie(browser)])
            pages.withLock { $0.append(r.map { $0.status == 200 && $0.text.contains("Sign out") ? 200 : $0.status } ?? -1) }
        }
        #expect(pages.withLock { $0 } == Array(repeating: 200, count: 40), "signed in on every answer")
        #expect(servedBy(server, "/dashboard") == [0, 1], "both hosts answered")

        let token = try #require(browser.csrfToken)
        let posts = Mutex<[Int]>([])
        DispatchQueue.concurrentPerform(iterations: 20) { i in
            let headers = [cookie(browser), ("Content-Type", "application/x-www-form-urlencoded")]
            let body = i % 2 == 0 ? "csrf_token=\(token)" : "csrf_token=forged"
            let r = try? HTTPClient.request(port: server.port, method: "POST", path: "/dashboard/settings/check", headers: headers, body: Array(body.utf8))
            posts.withLock { $0.append(i % 2 == 0 ? (r?.status ?? -1) : -(r?.status ?? 1)) }
        }
        let statuses = posts.withLock { $0 }
        #expect(statuses.filter { $0 > 0 } == Array(repeating: 303, count: 10), "with the token: \(statuses)")
        #expect(statuses.filter { $0 < 0 } == Array(repeating: -403, count: 10), "without it: \(statuses)")
        #expect(servedBy(server, "/dashboard/settings/check") == [0, 1])
    }

    @Test("20 refreshes of one expiring token at once, spread over both hosts, make exactly one call to the token endpoint")
    func oneRefreshAcrossHosts() throws {
        let setup = try site(tokenLifetime: 60)  // the first token is already "expiring"
        defer { setup.stop() }
        setup.oauth.setAccessTokenLifetime(3600)
        let before = setup.oauth.refreshCalls
        let token = try #require(setup.owner.csrfToken)
        let statuses = Mutex<[Int]>([])
        let port = setup.server.port, session = cookie(setup.owner)
        DispatchQueue.concurrentPerform(iterations: 20) { _ in
            let r = try? HTTPClient.request(port: port, method: "POST", path: "/api/storage/refresh-token",
                                            headers: [session, ("X-CSRF-Token", token), ("Content-Type", "application/json")],
                                            body: Array(#"{"provider":"google"}"#.utf8))
            statuses.withLock { $0.append(r?.status ?? -1) }
        }
        #expect(statuses.withLock { $0 } == Array(repeating: 200, count: 20))
        #expect(setup.oauth.refreshCalls == before + 1)
        #expect(servedBy(setup.server, "/api/storage/refresh-token") == [0, 1])
    }

    @Test("one host leads the jobs at a time; when the leader is killed, the other takes over within the lease")
    func jobLeadership() throws {
        let setup = try site(environment: ["INTAKE_JOBS_INTERVAL": "1"])
        defer { setup.stop() }
        func holder() throws -> String? { try setup.db.scalar("SELECT holder FROM job_leases WHERE name = 'jobs'", as: String.self) }
        var leader: String?
        for _ in 0..<100 where leader == nil {
            leader = try holder()
            usleep(100_000)
        }
        let first = try #require(leader)
        // Five seconds of passes every second on both hosts: the lease never changes hands.
        var seen: Set<String> = []
        for _ in 0..<25 {
            seen.insert(try holder() ?? "none")
            usleep(200_000)
        }
        #expect(seen == [first], "one leader: \(seen)")
        let leaderHost = try #require([0, 1].first { first.hasPrefix(IntakeTestServer.hostName($0) + ":") }, "holder \(first) names a host")

        let killedAt = Date()
        setup.server.killHost(leaderHost)
        var next: String?
        while Date().timeIntervalSince(killedAt) < Self.jobsLease + 15 {
            if let h = try holder(), h != first { next = h; break }
            usleep(250_000)
        }
        let taken = Date().timeIntervalSince(killedAt)
        let successor = try #require(next, "nobody took over in \(taken) s")
        #expect(successor.hasPrefix(IntakeTestServer.hostName(1 - leaderHost) + ":"), "the other host leads: \(successor)")
        #expect(taken <= Self.jobsLease + 3, "within the lease (\(Int(Self.jobsLease)) s) and a pass: \(taken) s")
    }

    @Test("a tus upload whose first chunk only host A can take and whose other chunks only host B can take arrives whole, with its SHA-256, in Drive")
    func tusAcrossHosts() throws {
        let setup = try site()
        defer { setup.stop() }
        let server = setup.server
        _ = try CloudUploadTests.Visitor(server)
        var rng = SystemRandomNumberGenerator()
        let bytes = Array("%PDF-1.7\n".utf8) + (0..<(6 * Self.mib)).map { _ in UInt8.random(in: 0...255, using: &rng) }
        let tus = TusUploadTests()

        /// As a tus client does: PATCH from `offset` to `end`; after a failed PATCH, HEAD says
        /// how far the server got, and the rest is sent from there.
        func send(_ location: String, from offset: Int, to end: Int) throws -> [Int] {
            var statuses: [Int] = [], at = offset
            while at < end, statuses.count < 6 {
                let r = try tus.patch(server, location, offset: at, bytes[at..<end])
                statuses.append(r.status)
                at = r.status == 204 ? end : Int(try tus.head(server, location).headers["upload-offset"] ?? "") ?? at
            }
            #expect(at == end, "sent up to \(at) of \(end): \(statuses)")
            return statuses
        }

        server.killHost(1)  // only host A answers
        let created = try tus.create(server, name: "both.pdf", length: bytes.count)
        #expect(created.status == 201)
        let location = try #require(created.headers["location"].map { URL(string: $0)?.path ?? $0 })
        _ = try send(location, from: 0, to: 2 * Self.mib)

        try server.restartHost(1)
        server.killHost(0)  // only host B answers
        let retried = try send(location, from: 2 * Self.mib, to: bytes.count)
        try server.restartHost(0)
        #expect(retried.last == 204, "\(retried)")
        #expect(servedBy(server, location).count == 2, "chunks were taken by both hosts")

        let id = try #require(try setup.db.scalar("SELECT file_upload_id FROM tus_uploads", as: Int.self))
        #expect(try setup.waitForStatus(id, "uploaded") == "uploaded")
        let item = try #require(setup.fake.items.first { $0.name == "both.pdf" })
        #expect(DeliveryTests().hex(item.bytes) == DeliveryTests().hex(bytes))
        #expect(try setup.recordedSHA256(id) == DeliveryTests().hex(bytes))
    }

    @Test("host A killed while it delivers files to Drive: nothing it accepted is lost — when it returns, its deliveries resume and every recorded file arrives once with its bytes")
    func hostKilledMidDelivery() throws {
        let setup = try site()
        defer { setup.stop() }
        let server = setup.server
        let visitor = try CloudUploadTests.Visitor(server)
        let files = (0..<6).map { i in ("f\(i).pdf", DeliveryTests().pdf(20 * Self.mib + i)) }
        setup.fake.delayChunks(1.0)  // three 8 MiB chunks each: a delivery stays under way for seconds
        let results = Mutex<[String: Int]>([:])
        let clients = files.map { file in
            Thread {
                let r = try? visitor.upload(file.0, file.1)
                results.withLock { $0[file.0] = r?.status ?? -1 }
            }
        }
        clients.forEach { $0.start() }

        // Kill host A while a delivery of its is under way at Drive (its session saved).
        var underWay = 0
        for _ in 0..<200 {
            underWay = try setup.db.scalar("""
                SELECT count(*) FROM file_uploads WHERE status = 'delivering' AND lease_holder LIKE 'host-a:%' AND provider_session IS NOT NULL
                """, as: Int.self) ?? 0
            if underWay > 0 { break }
            usleep(50_000)
        }
        #expect(underWay > 0, "host A had a delivery under way")
        server.killHost(0)
        for _ in 0..<600 where results.withLock({ $0.count }) < files.count { usleep(100_000) }
        setup.fake.delayChunks(0)
        // (Host A's requests end unlogged: it died in them. Host B's are logged.)
        #expect(servedBy(server, "/api/upload") == [1], "host B took uploads too")
        try server.restartHost(0)

        let recorded = try setup.db.query("SELECT id, file_name FROM file_uploads ORDER BY id").map { (try $0.get("id", as: Int.self), try $0.get("file_name", as: String.self)) }
        let accepted = results.withLock { $0 }.filter { $0.value == 200 }.map(\.key)
        #expect(Set(accepted).isSubset(of: Set(recorded.map(\.1))), "every accepted upload is recorded")
        #expect(recorded.count > accepted.count, "the killed host's deliveries are among them: \(recorded.count) recorded, \(accepted.count) answered")
        for (id, name) in recorded {
            #expect(try setup.waitForStatus(id, "uploaded", seconds: 90) == "uploaded", "\(name)")
            let copies = setup.fake.items.filter { $0.name == name && !$0.trashed }
            let sent = try #require(files.first { $0.0 == name }).1
            #expect(copies.count == 1, "\(name): \(copies.count) copies")
            #expect(copies.first.map { DeliveryTests().hex($0.bytes) } == DeliveryTests().hex(sent), "\(name)")
        }
        #expect(try setup.countedOnce())
    }
}
