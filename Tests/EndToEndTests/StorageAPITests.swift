import Database
import Foundation
import Synchronization
import Testing
import TestSupport

@Suite("Storage JSON API through nginx", .serialized, .enabled(if: integrationEnabled, "set INTAKE_INTEGRATION=1 (scripts/test does)"))
struct StorageAPITests {
    let password = "correct horse battery"

    /// A server talking to a fake Google (or Dropbox), with a signed-in owner whose storage is connected
    /// (through the real connect flow) and one portal on it.
    /// `extraEnvironment` adds settings that need the fake Google (a fake Drive checking its tokens).
    func connected(workers: Int = 2, hosts: Int = 1, tokenLifetime: Int = 3600, kind: FakeOAuthServer.Kind = .google,
                   extraEnvironment: (FakeOAuthServer) throws -> [String: String] = { _ in [:] }) throws -> (IntakeTestServer, FakeOAuthServer, WebSession) {
        let fake = try FakeOAuthServer(kind: kind)
        fake.setAccessTokenLifetime(tokenLifetime)
        let environment = StorageConnectTests.environment(fake).merging(try extraEnvironment(fake)) { _, extra in extra }
        let server = try IntakeTestServer(workers: workers, threads: 8, hosts: hosts, extraEnvironment: environment)
        try server.createUser(email: "owner@example.com", name: "Olive")
        try server.createUser(email: "other@example.com", name: "Other")
        let browser = server.session()
        try browser.get("/login")
        try browser.post("/login", form: [("email", "owner@example.com"), ("password", password)])
        let callback = try StorageConnectTests().consent(browser, fake)
        #expect(try browser.get(callback).status == 303)
        let db = try server.openDatabase()
        try db.execute("INSERT INTO portals (user_id, name, slug, storage_account_id, created_at, updated_at) SELECT user_id, 'P', 'p', id, 0, 0 FROM storage_accounts")
        try browser.get("/dashboard/settings")
        return (server, fake, browser)
    }

    @Test("accounts, v1 overview, deactivate and reactivate with the seed's shapes; CSRF and ownership enforced")
    func shapes() throws {
        let (server, fake, browser) = try connected()
        defer { server.stop(); fake.stop() }
        let accounts = try browser.get("/api/storage/accounts", headers: [("Accept", "application/json")])
        #expect(accounts.status == 200)
        #expect(accounts.text.hasPrefix(#"{"accounts":[{"provider":"google","providerAccountId":"acct-1","email":"owner@example.com","name":"Olive Owner","isConnected":true,"storageAccountId":"1","storageStatus":"ACTIVE","isAuthAccount":false,"hasValidOAuth":true,"oauthStatus":"valid"}]}"#))
        let overview = try browser.get("/api/v1/storage").text
        #expect(overview.contains(#""activeStorageAccounts":[{"id":"1","provider":"google_drive""#))
        #expect(overview.contains(#""fallbackInfo":{"accountsCreated":0,"accountsReactivated":0,"accountsValidated":1,"errors":[]}"#))

        #expect(try browser.postJSON("/api/storage/deactivate", #"{"provider":"google_drive"}"#, csrf: false).status == 403)
        let off = try browser.postJSON("/api/storage/deactivate", #"{"provider":"google_drive"}"#)
        #expect(off.status == 200 && off.text == #"{"message":"Storage account deactivated successfully","deactivatedPortals":1}"#)
        let on = try browser.postJSON("/api/storage/reactivate", #"{"provider":"google_drive"}"#)
        #expect(on.text == #"{"message":"Storage account reactivated successfully","reactivatedPortals":1}"#)
        let bad = try browser.postJSON("/api/storage/reactivate", #"{"provider":"google_drive"}"#)
        #expect(bad.status == 409 && bad.text.contains(#""code":"invalid_transition""#))
        let junk = try browser.postJSON("/api/storage/deactivate", "not json")
        #expect(junk.status == 400 && junk.text.contains("invalid_json"))

        let other = server.session()
        try other.get("/login")
        try other.post("/login", form: [("email", "other@example.com"), ("password", password)])
        try other.get("/dashboard/settings")
        let foreign = try other.postJSON("/api/storage/deactivate", #"{"storageAccountId":"1"}"#)
        #expect(foreign.status == 404, "another user's account id is not found, not forbidden-but-existing")
        #expect(try other.get("/api/storage/accounts").text == #"{"accounts":[]}"#)
        let anonymous = try HTTPClient.request(port: server.port, path: "/api/storage/accounts")
        #expect(anonymous.status == 401 && anonymous.text.contains(#""code":"unauthorized""#))
    }

    @Test("20 parallel refreshes of one account across two worker processes make exactly one call to the token endpoint")
    func oneRefreshAcrossProcesses() throws {
        let (server, fake, browser) = try connected(workers: 2, tokenLifetime: 60)  // the first token is already "expiring"
        defer { server.stop(); fake.stop() }
        fake.setAccessTokenLifetime(3600)
        #expect(fake.refreshCalls == 0)
        let cookie = ("Cookie", "intake_session=\(browser.cookies["intake_session"]!)")
        let token = browser.csrfToken!
        let statuses = Mutex<[Int]>([])
        DispatchQueue.concurrentPerform(iterations: 20) { _ in
            let r = try? HTTPClient.request(port: server.port, method: "POST", path: "/api/storage/refresh-token",
                                            headers: [cookie, ("X-CSRF-Token", token), ("Content-Type", "application/json")],
                                            body: Array(#"{"provider":"google"}"#.utf8))
            statuses.withLock { $0.append(r?.status ?? -1) }
        }
        #expect(statuses.withLock { $0 } == Array(repeating: 200, count: 20))
        #expect(fake.refreshCalls == 1)
        let pids = Set(try String(contentsOfFile: server.home + "/serve.log", encoding: .utf8)
            .split(separator: "\n").filter { $0.contains("path=/api/storage/refresh-token") }
            .compactMap { line in line.split(separator: " ").first { $0.hasPrefix("pid=") } })
        #expect(pids.count == 2, "the requests were served by both worker processes")
    }

    @Test("a revoked grant: sync answers with the portals it switched off")
    func syncAPI() throws {
        let (server, fake, browser) = try connected()
        defer { server.stop(); fake.stop() }
        fake.revoke(accountID: "acct-1")
        let sync = try browser.postJSON("/api/storage/sync-oauth-status", "{}")
        #expect(sync.text == #"{"message":"Storage accounts synced successfully","summary":{"deactivatedPortals":1,"reactivatedPortals":0}}"#)
        let refresh = try browser.postJSON("/api/storage/refresh-token", #"{"provider":"google"}"#)
        #expect(refresh.status == 409 && refresh.text.contains(#""code":"storage_disconnected""#))
        #expect(try browser.get("/api/storage/accounts").text.contains(#""storageStatus":"DISCONNECTED""#))
    }
}
