import Database
import Foundation
import Testing
import TestSupport

@Suite("Connecting storage through nginx with fake providers", .serialized, .enabled(if: integrationEnabled, "set INTAKE_INTEGRATION=1 (scripts/test does)"))
struct StorageConnectTests {
    let password = "correct horse battery"

    static func environment(_ fake: FakeOAuthServer) -> [String: String] {
        fake.kind == .google
            ? ["INTAKE_GOOGLE_CLIENT_ID": fake.clientID, "INTAKE_GOOGLE_CLIENT_SECRET": fake.clientSecret,
               "INTAKE_GOOGLE_AUTH_URL": fake.authorizationURL, "INTAKE_GOOGLE_TOKEN_URL": fake.tokenURL,
               "INTAKE_GOOGLE_USERINFO_URL": fake.identityURL, "INTAKE_GOOGLE_REVOKE_URL": fake.revocationURL]
            : ["INTAKE_DROPBOX_APP_KEY": fake.clientID, "INTAKE_DROPBOX_APP_SECRET": fake.clientSecret,
               "INTAKE_DROPBOX_AUTH_URL": fake.authorizationURL, "INTAKE_DROPBOX_TOKEN_URL": fake.tokenURL,
               "INTAKE_DROPBOX_API_URL": fake.identityURL]
    }

    static func name(_ kind: FakeOAuthServer.Kind) -> String { kind == .google ? "google" : "dropbox" }

    /// Follows the connect button to the fake's consent and back: returns the callback path.
    func consent(_ browser: WebSession, _ fake: FakeOAuthServer) throws -> String {
        try browser.get("/dashboard/settings")
        let start = try browser.post("/dashboard/settings/connect", form: [("provider", Self.name(fake.kind))])
        #expect(start.status == 303)
        let location = try #require(start.headers["location"])
        #expect(location.hasPrefix(fake.authorizationURL) && location.contains("code_challenge_method=S256") && location.contains("state="))
        let url = try #require(URLComponents(string: location))
        let back = try HTTPClient.request(port: UInt16(url.port!), path: url.path + "?" + url.percentEncodedQuery!)
        #expect(back.status == 302)
        let backLocation = try #require(back.headers["location"])
        let callback = try #require(URLComponents(string: backLocation))
        #expect(callback.path == "/oauth/\(Self.name(fake.kind))/callback")
        return callback.path + "?" + callback.percentEncodedQuery!
    }

    @Test("connect → ACTIVE; a reused or forged state changes nothing; revocation → DISCONNECTED with its portal off and an audit entry; reconnect → ACTIVE",
          arguments: [FakeOAuthServer.Kind.google, .dropbox])
    func connectFlow(kind: FakeOAuthServer.Kind) throws {
        let fake = try FakeOAuthServer(kind: kind)
        defer { fake.stop() }
        let label = kind == .google ? "Google Drive" : "Dropbox"
        let server = try IntakeTestServer(extraEnvironment: Self.environment(fake))
        defer { server.stop() }
        try server.createUser(email: "owner@example.com", name: "Olive")
        let browser = server.session()
        try browser.get("/login")
        try browser.post("/login", form: [("email", "owner@example.com"), ("password", password)])
        let settings = try browser.get("/dashboard/settings").text
        #expect(settings.contains("Connect \(label)") && settings.contains("<strong>" + (kind == .google ? "Dropbox" : "Google Drive") + "</strong> is not set up on this server."))

        let callback = try consent(browser, fake)
        let done = try browser.get(callback)
        #expect(done.status == 303 && done.headers["location"] == "/dashboard/settings")
        let connected = try browser.get("/dashboard/settings").text
        #expect(connected.contains("\(label) (owner@example.com) connected.") && connected.contains("indicator-green") && connected.contains("owner@example.com"))

        // The same state again, and a made-up one: refused, nothing new.
        let reused = try browser.get(callback)
        #expect(reused.status == 400 && reused.text.contains("already used"))
        let forged = try browser.get("/oauth/\(Self.name(kind))/callback?code=x&state=forged")
        #expect(forged.status == 400)
        let db = try server.openDatabase()
        #expect(try db.scalar("SELECT count(*) FROM storage_accounts", as: Int.self) == 1)
        let tokens = try db.query("SELECT access_token_sealed, refresh_token_sealed FROM oauth_accounts")
        #expect(tokens.count == 1)
        let sealedRefresh = try tokens[0].get("refresh_token_sealed", as: [UInt8].self)
        #expect(!String(decoding: sealedRefresh, as: UTF8.self).contains("refresh-"), "tokens are sealed at rest")

        // A portal on the account, then the user revokes access at Google.
        let accountID = try #require(try db.scalar("SELECT id FROM storage_accounts", as: Int64.self))
        try db.execute("INSERT INTO portals (user_id, name, slug, storage_account_id, created_at, updated_at) SELECT user_id, 'P', 'p', id, 0, 0 FROM storage_accounts")
        // And one its owner switched off: a reconnect must leave it off.
        try db.execute("INSERT INTO portals (user_id, name, slug, storage_account_id, active, created_at, updated_at) SELECT user_id, 'Off', 'off', id, 0, 0, 0 FROM storage_accounts")
        fake.revoke(accountID: "acct-1")
        try browser.get("/dashboard/settings")
        #expect(try browser.post("/dashboard/settings/sync", form: []).status == 303)
        let revoked = try browser.get("/dashboard/settings").text
        #expect(revoked.contains("indicator-red") && revoked.contains(">Disconnected<") && revoked.contains("invalid_grant"))
        #expect(try db.scalar("SELECT active FROM portals WHERE slug = 'p'", as: Int.self) == 0)
        #expect(try db.scalar("SELECT count(*) FROM audit_log WHERE action = 'storage_account.status' AND entity_id = $1", [String(accountID)], as: Int.self) == 1)

        // Reconnecting brings the account and its portal back.
        let again = try consent(browser, fake)
        #expect(try browser.get(again).status == 303)
        let back = try browser.get("/dashboard/settings").text
        #expect(back.contains("reconnected") && back.contains("indicator-green"))
        #expect(try db.scalar("SELECT active FROM portals WHERE slug = 'p'", as: Int.self) == 1)
        #expect(try db.scalar("SELECT active FROM portals WHERE slug = 'off'", as: Int.self) == 0, "only the automatically switched-off portal comes back")

        // No token ever reaches the log (the fake's tokens are "access-…", "refresh-…", "code-…").
        let log = server.serveLogText()
        #expect(!log.contains("access-") && !log.contains("refresh-") && !log.contains("code-"))
    }

    @Test("denied consent shows a clear page and connects nothing")
    func denied() throws {
        let fake = try FakeOAuthServer(kind: .google)
        defer { fake.stop() }
        fake.denyConsent(true)
        let server = try IntakeTestServer(extraEnvironment: Self.environment(fake))
        defer { server.stop() }
        try server.createUser(email: "owner@example.com")
        let browser = server.session()
        try browser.get("/login")
        try browser.post("/login", form: [("email", "owner@example.com"), ("password", password)])
        let callback = try consent(browser, fake)
        let page = try browser.get(callback)
        #expect(page.status == 400 && page.text.contains("You did not allow Intake to use your Google Drive."))
        let db = try server.openDatabase()
        #expect(try db.scalar("SELECT count(*) FROM storage_accounts", as: Int.self) == 0)
    }
}
