import Database
import Foundation
import Testing
import TestSupport

/// Issue 12, items 6–8, through nginx against the fake providers: what the page and the API say
/// of a grant the provider refused; coming back from DISCONNECTED only when the provider still
/// honours the grant; Pause uploads and Disconnect as two actions, Disconnect revoking the grant;
/// Check again and Reconnect on an account in ERROR.
@Suite("Storage: grant state, reactivation, pause and disconnect through nginx", .serialized,
       .enabled(if: integrationEnabled, "set INTAKE_INTEGRATION=1 (scripts/test does)"))
struct StorageDisconnectTests {
    /// A connected owner (through the real OAuth flow) with two portals on the account: `p`, active,
    /// and `off`, switched off by its owner.
    func connected(kind: FakeOAuthServer.Kind = .google, tokenLifetime: Int = 3600) throws -> (IntakeTestServer, FakeOAuthServer, WebSession, any Database) {
        let (server, fake, browser) = try StorageAPITests().connected(tokenLifetime: tokenLifetime, kind: kind)
        let db = try server.openDatabase()
        try db.execute("INSERT INTO portals (user_id, name, slug, storage_account_id, active, created_at, updated_at) SELECT user_id, 'Off', 'off', id, 0, 0, 0 FROM storage_accounts")
        try browser.get("/dashboard/settings")
        return (server, fake, browser, db)
    }

    func status(_ db: any Database) throws -> String? { try db.scalar("SELECT status FROM storage_accounts WHERE id = 1", as: String.self) }
    func portalActive(_ db: any Database, _ slug: String) throws -> Int? { try db.scalar("SELECT active FROM portals WHERE slug = $1", [slug], as: Int.self) }

    /// The account's `<li>` on the settings page.
    func accountItem(_ page: String) -> String {
        guard let start = page.range(of: #"<li class="account">"#), let end = page[start.upperBound...].range(of: "</li>") else { return "" }
        return String(page[start.lowerBound..<end.upperBound])
    }

    func flash(_ page: String) -> String {
        guard let start = page.range(of: #"<div class="flash"#), let end = page[start.upperBound...].range(of: "</div>") else { return "" }
        return String(page[start.lowerBound..<end.upperBound])
    }

    /// The lines of the serve log that report a status change of storage account 1.
    func statusLogLines(_ server: IntakeTestServer) -> [String] {
        server.serveLogText().split(separator: "\n").map(String.init)
            .filter { $0.contains("storage account status") && $0.contains("storage_account_id=1") }
    }

    // MARK: item 6

    @Test("after the provider refuses the grant (invalid_grant), the page and the API no longer call it valid")
    func refusedGrantIsNotValid() throws {
        let (server, fake, browser, db) = try connected()
        defer { server.stop(); fake.stop() }
        let before = try browser.get("/api/storage/accounts").text
        #expect(before.contains(#""hasValidOAuth":true,"oauthStatus":"valid""#))
        #expect(accountItem(try browser.get("/dashboard/settings").text).contains("<dt>Access</dt><dd>Google Drive accepts Intake"))

        fake.revoke(accountID: "acct-1")
        #expect(try browser.post("/dashboard/settings/sync", form: []).status == 303)
        #expect(try status(db) == "DISCONNECTED")
        let page = try browser.get("/dashboard/settings").text
        let item = accountItem(page)
        #expect(item.contains("refresh refused: invalid_grant"))
        #expect(!item.contains("<dd>Google Drive accepts Intake"), "the page must not call a refused grant valid")
        #expect(item.contains("Google Drive refused Intake"))
        for path in ["/api/storage/accounts", "/api/v1/storage"] {
            let json = try browser.get(path).text
            #expect(json.contains(#""storageStatus":"DISCONNECTED","isAuthAccount":false,"hasValidOAuth":false,"oauthStatus":"refused""#), "\(path): \(json)")
        }
    }

    // MARK: item 7

    @Test("reactivate and fix-accounts bring a DISCONNECTED account back only after a token refresh works; a refused one stays with a reconnect message")
    func comingBackNeedsTheProvider() throws {
        // Tokens that are always near expiry: every use asks the token endpoint.
        let (server, fake, browser, db) = try connected(tokenLifetime: 60)
        defer { server.stop(); fake.stop() }
        func disconnectByRefusal() throws {
            fake.failNextTokenCalls([.oauthError(400, "invalid_grant")])
            try browser.get("/dashboard/settings")
            #expect(try browser.post("/dashboard/settings/sync", form: []).status == 303)
            #expect(try status(db) == "DISCONNECTED")
            #expect(try portalActive(db, "p") == 0)
        }
        try disconnectByRefusal()

        // Reactivate (JSON API) while the provider still refuses: asked, refused, nothing changes.
        fake.failNextTokenCalls([.oauthError(400, "invalid_grant")])
        var calls = fake.tokenCalls
        let refused = try browser.postJSON("/api/storage/reactivate", #"{"provider":"google_drive"}"#)
        #expect(refused.status == 409 && refused.text.contains(#""code":"reconnect_required""#) && refused.text.contains("Reconnect"), "\(refused.status) \(refused.text)")
        #expect(fake.tokenCalls == calls + 1, "the provider was asked")
        #expect(try status(db) == "DISCONNECTED" && portalActive(db, "p") == 0)

        // The same from the settings page: a flash that says to reconnect.
        fake.failNextTokenCalls([.oauthError(400, "invalid_grant")])
        try browser.get("/dashboard/settings")
        #expect(try browser.post("/dashboard/settings/accounts/1/reactivate", form: []).status == 303)
        let page = try browser.get("/dashboard/settings").text
        #expect(flash(page).contains("flash-error") && flash(page).contains("Reconnect"), "\(flash(page))")
        #expect(try status(db) == "DISCONNECTED")

        // Once a refresh works, reactivate brings it and its portal back (not the owner's own).
        calls = fake.tokenCalls
        let back = try browser.postJSON("/api/storage/reactivate", #"{"provider":"google_drive"}"#)
        #expect(back.status == 200 && back.text == #"{"message":"Storage account reactivated successfully","reactivatedPortals":1}"#, "\(back.text)")
        #expect(fake.tokenCalls == calls + 1)
        #expect(try status(db) == "ACTIVE" && portalActive(db, "p") == 1 && portalActive(db, "off") == 0)

        // fix-accounts: no silent revival either.
        try disconnectByRefusal()
        fake.failNextTokenCalls([.oauthError(400, "invalid_grant")])
        try browser.get("/dashboard/settings")
        let fixRefused = try browser.postJSON("/api/storage/fix-accounts", "{}")
        #expect(fixRefused.status == 200 && fixRefused.text.contains(#""reactivated":0"#) && fixRefused.text.contains("reconnect"), "\(fixRefused.text)")
        #expect(try status(db) == "DISCONNECTED" && portalActive(db, "p") == 0)
        let fixed = try browser.postJSON("/api/storage/fix-accounts", "{}")
        #expect(fixed.text.contains(#""reactivated":1"#) && fixed.text.contains(#""reactivatedPortals":1"#), "\(fixed.text)")
        #expect(try status(db) == "ACTIVE" && portalActive(db, "p") == 1)
        // The settings page's Fix storage: refused → stays, with the reason.
        try disconnectByRefusal()
        fake.failNextTokenCalls([.oauthError(400, "invalid_grant")])
        try browser.get("/dashboard/settings")
        #expect(try browser.post("/dashboard/settings/fix", form: []).status == 303)
        #expect(flash(try browser.get("/dashboard/settings").text).contains("reconnect"))
        #expect(try status(db) == "DISCONNECTED")
    }

    // MARK: item 8

    @Test("Pause uploads: INACTIVE without a word to the provider; Disconnect revokes the grant, DISCONNECTED, portals off, tokens gone",
          arguments: [FakeOAuthServer.Kind.google, .dropbox])
    func pauseAndDisconnect(kind: FakeOAuthServer.Kind) throws {
        let (server, fake, browser, db) = try connected(kind: kind)
        defer { server.stop(); fake.stop() }
        let page = try browser.get("/dashboard/settings").text
        let item = accountItem(page)
        #expect(item.contains(">Pause uploads</button>") && item.contains(">Disconnect</button>"))
        #expect(item.contains("Its portals stop taking uploads; its files can still be downloaded.")
                    && item.contains("Removes Intake") && item.contains("be downloaded here until you reconnect"),
                "each button says what it does to portals and files")

        // Pause: INACTIVE, its portal off, nothing revoked; Reactivate undoes it.
        #expect(try browser.post("/dashboard/settings/accounts/1/deactivate", form: [("action", "pause")]).status == 303)
        #expect(flash(try browser.get("/dashboard/settings").text).contains("paused"))
        #expect(try status(db) == "INACTIVE" && portalActive(db, "p") == 0)
        #expect(fake.revocations.isEmpty)
        #expect(try browser.post("/dashboard/settings/accounts/1/reactivate", form: []).status == 303)
        #expect(try status(db) == "ACTIVE" && portalActive(db, "p") == 1 && portalActive(db, "off") == 0)

        // Disconnect: exactly one revocation, with the grant's token, then DISCONNECTED.
        let refresh = fake.liveRefreshTokens(accountID: "acct-1")
        let access = fake.liveAccessTokens(accountID: "acct-1")
        #expect(refresh.count == 1 && access.count == 1)
        try browser.get("/dashboard/settings")
        #expect(try browser.post("/dashboard/settings/accounts/1/deactivate", form: [("action", "disconnect")]).status == 303)
        let revocations = fake.revocations
        #expect(revocations.count == 1)
        if let r = revocations.first {
            if kind == .google {
                #expect(r.path == "/revoke" && r.token == refresh[0] && r.issuedAs == "refresh" && r.accountID == "acct-1")
                #expect(r.contentType == "application/x-www-form-urlencoded" && r.formFields == ["token"])
            } else {
                #expect(r.path == "/2/auth/token/revoke" && r.token == access[0] && r.issuedAs == "access" && r.accountID == "acct-1")
                #expect(r.bodyBytes == 0)
            }
        }
        #expect(fake.liveRefreshTokens(accountID: "acct-1").isEmpty, "the grant is gone at the provider")
        let after = try browser.get("/dashboard/settings").text
        #expect(flash(after).contains("disconnected") && !flash(after).contains("could not"), "\(flash(after))")
        #expect(try status(db) == "DISCONNECTED")
        #expect(try portalActive(db, "p") == 0 && db.scalar("SELECT auto_deactivated FROM portals WHERE slug = 'p'", as: Int.self) == 1)
        #expect(try db.scalar("SELECT count(*) FROM oauth_accounts WHERE access_token_sealed IS NULL AND refresh_token_sealed IS NULL", as: Int.self) == 1,
                "tokens dropped from the database")
        #expect(try db.scalar("SELECT count(*) FROM audit_log WHERE action = 'storage_account.status' AND after_json LIKE '%ownerDisconnects%'", as: Int.self) == 1)
        let lines = statusLogLines(server)
        #expect(lines.contains { $0.contains("from=ACTIVE") && $0.contains("to=INACTIVE") })
        #expect(lines.contains { $0.contains("from=ACTIVE") && $0.contains("to=DISCONNECTED") && $0.contains("reason=") })
        let accountAfter = accountItem(after)
        #expect(accountAfter.contains(">Reconnect</button>") && !accountAfter.contains(">Disconnect</button>"))
        #expect(!server.serveLogText().contains(refresh[0]) && !server.serveLogText().contains(access[0]), "no token in the log")

        // Reactivate cannot bring it back: there is no grant left to refresh.
        let again = try browser.postJSON("/api/storage/reactivate", #"{"storageAccountId":"1"}"#)
        #expect(again.status == 409 && again.text.contains("reconnect_required"))
        #expect(try status(db) == "DISCONNECTED")
        #expect(fake.revocations.count == 1)
    }

    @Test("Disconnect through the JSON API; a provider that cannot be reached: disconnected here, the owner told, the log says so")
    func disconnectWhileProviderDown() throws {
        let (server, fake, browser, db) = try connected()
        defer { server.stop(); fake.stop() }
        fake.failNextRevokeCalls(Array(repeating: .status(503, retryAfter: 0), count: 10))
        let answer = try browser.postJSON("/api/storage/deactivate", #"{"provider":"google_drive","action":"disconnect"}"#)
        #expect(answer.status == 200, "\(answer.text)")
        #expect(answer.text.contains(#""deactivatedPortals":1"#) && answer.text.contains(#""providerRevoked":false"#), "\(answer.text)")
        #expect(answer.text.contains("could not be told"), "\(answer.text)")
        #expect(!fake.revocations.isEmpty)
        #expect(try status(db) == "DISCONNECTED" && portalActive(db, "p") == 0)
        #expect(try db.scalar("SELECT count(*) FROM oauth_accounts WHERE access_token_sealed IS NULL AND refresh_token_sealed IS NULL", as: Int.self) == 1)
        #expect(server.serveLogText().split(separator: "\n").contains { $0.contains("could not be told") && $0.contains("storage_account_id=1") })
    }

    @Test("an account in ERROR offers Check again and Reconnect; Check again brings it and its portal back")
    func errorAccount() throws {
        let (server, fake, browser, db) = try connected(tokenLifetime: 60)
        defer { server.stop(); fake.stop() }
        fake.failNextTokenCalls(Array(repeating: .status(503, retryAfter: 0), count: 5))
        #expect(try browser.post("/dashboard/settings/sync", form: []).status == 303)
        #expect(try status(db) == "ERROR" && portalActive(db, "p") == 0)
        let item = accountItem(try browser.get("/dashboard/settings").text)
        #expect(item.contains(">Check again</button>") && item.contains(">Reconnect</button>"), "\(item)")
        #expect(item.contains("Not confirmed yet"), "the grant could not be checked")

        // Still down: stays in ERROR, and says so.
        fake.failNextTokenCalls(Array(repeating: .status(503, retryAfter: 0), count: 5))
        #expect(try browser.post("/dashboard/settings/accounts/1/reactivate", form: []).status == 303)
        #expect(flash(try browser.get("/dashboard/settings").text).contains("could not be reached"))
        #expect(try status(db) == "ERROR")

        #expect(try browser.post("/dashboard/settings/accounts/1/reactivate", form: []).status == 303)
        let page = try browser.get("/dashboard/settings").text
        #expect(flash(page).contains("flash-success"), "\(flash(page))")
        #expect(try status(db) == "ACTIVE" && portalActive(db, "p") == 1 && portalActive(db, "off") == 0)
        #expect(statusLogLines(server).contains { $0.contains("from=ERROR") && $0.contains("to=ACTIVE") })

        // Reconnect is the OAuth flow: it starts at the provider's consent page.
        fake.failNextTokenCalls(Array(repeating: .status(503, retryAfter: 0), count: 5))
        #expect(try browser.post("/dashboard/settings/sync", form: []).status == 303)
        try browser.get("/dashboard/settings")
        let callback = try StorageConnectTests().consent(browser, fake)
        #expect(try browser.get(callback).status == 303)
        #expect(try status(db) == "ACTIVE" && portalActive(db, "p") == 1)
    }
}
