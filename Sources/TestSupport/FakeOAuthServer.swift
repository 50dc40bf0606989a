import Foundation
import Synchronization

/// A loopback stand-in for Google's or Dropbox's OAuth endpoints, speaking their documented
/// wire protocol: the authorization redirect (consent is given at once, or refused by a switch),
/// the token endpoint (authorization_code with PKCE S256 checked, refresh_token), and the
/// identity call (Google `userinfo`, Dropbox `users/get_current_account`), and revocation
/// (Google `POST /revoke` with a `token` form field, Dropbox `POST /2/auth/token/revoke` with the
/// bearer token and no body), each revocation recorded. Switches make it expire tokens, revoke a
/// refresh token, answer 429/500/503 (at the token endpoint, the revocation endpoint or the
/// identity call), refuse a grant or drop the connection.
public final class FakeOAuthServer: @unchecked Sendable {  // `server` is set once in init; the rest is behind a Mutex
    public enum Kind: Sendable { case google, dropbox }

    /// A failure the token endpoint gives to its next calls, in order.
    public enum Failure: Sendable {
        case status(Int, retryAfter: Int?)
        /// An RFC 6749 §5.2 error body (`{"error":"invalid_grant"}`) with this status.
        case oauthError(Int, String)
        case drop
    }

    /// One call to the revocation endpoint, as received.
    public struct Revocation: Sendable, Equatable {
        public let path: String
        /// The token sent: Google's `token` form field, or Dropbox's bearer token.
        public let token: String
        /// What the fake had issued it as: "refresh", "access", or "unknown".
        public let issuedAs: String
        /// The account it was issued to, when known.
        public let accountID: String?
        /// The request's `Content-Type`, and the names of the form fields (Google) or the body's size (Dropbox).
        public let contentType: String?
        public let formFields: [String]
        public let bodyBytes: Int
    }

    public struct Account: Sendable {
        public let id: String
        public let email: String
        public let name: String
        public init(id: String, email: String, name: String) {
            self.id = id
            self.email = email
            self.name = name
        }
    }

    private struct State {
        var codes: [String: (challenge: String, redirectURI: String, account: Account)] = [:]
        var refreshTokens: [String: Account] = [:]
        var accessTokens: [String: (account: Account, expiresAt: Date)] = [:]
        var tokenFailures: [Failure] = []
        var revokeFailures: [Failure] = []
        var identityFailures: [Failure] = []
        var identityCalls = 0
        var revocations: [Revocation] = []
        var tokenCalls = 0
        var refreshCalls = 0
        var denyConsent = false
        var accessTokenLifetime: Int = 3600
        var rotateRefreshTokens = false
        var nextAccount: Account
        /// The account the browser last consented with: both providers send it again without
        /// asking unless told to let the user choose (Google `prompt=select_account`, Dropbox
        /// `force_reapprove=true`).
        var signedIn: Account?
        var counter = 0
    }

    public let kind: Kind
    public let clientID: String
    public let clientSecret: String
    private let state: Mutex<State>
    private var server: LoopbackHTTPServer!

    public init(kind: Kind, clientID: String = "test-client", clientSecret: String = "test-secret",
                account: Account = Account(id: "acct-1", email: "owner@example.com", name: "Olive Owner")) throws {
        self.kind = kind
        self.clientID = clientID
        self.clientSecret = clientSecret
        state = Mutex(State(nextAccount: account))
        server = try LoopbackHTTPServer { [unowned self] request in self.handle(request) }
    }

    public func stop() { server.stop() }

    public var baseURL: String { server.baseURL }
    public var authorizationURL: String { baseURL + (kind == .google ? "/o/oauth2/v2/auth" : "/oauth2/authorize") }
    public var tokenURL: String { baseURL + (kind == .google ? "/token" : "/oauth2/token") }
    /// Google's userinfo URL, or Dropbox's API base.
    public var identityURL: String { baseURL + (kind == .google ? "/v1/userinfo" : "/2") }
    /// Google's revocation endpoint, or Dropbox's `auth/token/revoke` under its API base.
    public var revocationURL: String { baseURL + (kind == .google ? "/revoke" : "/2/auth/token/revoke") }

    // Switches.
    public func failNextTokenCalls(_ failures: [Failure]) { state.withLock { $0.tokenFailures = failures } }
    /// The next calls to the revocation endpoint fail so, in order (and revoke nothing).
    public func failNextRevokeCalls(_ failures: [Failure]) { state.withLock { $0.revokeFailures = failures } }
    /// The next identity calls (Google's userinfo, Dropbox's `users/get_current_account`) fail
    /// so, in order.
    public func failNextIdentityCalls(_ failures: [Failure]) { state.withLock { $0.identityFailures = failures } }
    /// Identity calls received, failed ones included.
    public var identityCalls: Int { state.withLock { $0.identityCalls } }
    /// Every call the revocation endpoint answered or failed, in order.
    public var revocations: [Revocation] { state.withLock { $0.revocations } }
    /// The refresh and access tokens of the account that are still good.
    public func liveRefreshTokens(accountID: String) -> [String] {
        state.withLock { $0.refreshTokens.filter { $0.value.id == accountID }.map(\.key).sorted() }
    }
    public func liveAccessTokens(accountID: String) -> [String] {
        state.withLock { $0.accessTokens.filter { $0.value.account.id == accountID && $0.value.expiresAt > Date() }.map(\.key).sorted() }
    }
    public func denyConsent(_ deny: Bool) { state.withLock { $0.denyConsent = deny } }
    public func setAccessTokenLifetime(_ seconds: Int) { state.withLock { $0.accessTokenLifetime = seconds } }
    public func rotateRefreshTokens(_ rotate: Bool) { state.withLock { $0.rotateRefreshTokens = rotate } }
    public func setNextAccount(_ account: Account) { state.withLock { $0.nextAccount = account } }
    /// Revokes every refresh token (and access token) of the account, as a user revoking access would.
    public func revoke(accountID: String) {
        state.withLock { s in
            s.refreshTokens = s.refreshTokens.filter { $0.value.id != accountID }
            s.accessTokens = s.accessTokens.filter { $0.value.account.id != accountID }
        }
    }
    /// Makes every access token expired now.
    public func expireAccessTokens() {
        state.withLock { s in for key in s.accessTokens.keys { s.accessTokens[key]!.expiresAt = Date.distantPast } }
    }
    public var tokenCalls: Int { state.withLock { $0.tokenCalls } }
    public var refreshCalls: Int { state.withLock { $0.refreshCalls } }

    private func token(_ prefix: String) -> String {
        state.withLock { s in s.counter += 1; return "\(prefix)-\(s.counter)-\(UUID().uuidString.prefix(8))" }
    }

    /// Answers a request another fake received (the fake Dropbox passes on the identity call, which
    /// shares Dropbox's API host with the file endpoints).
    func handle(_ request: LoopbackRequest) -> LoopbackResponse {
        switch (request.method, request.path) {
        case ("GET", "/o/oauth2/v2/auth"), ("GET", "/oauth2/authorize"): return authorize(request)
        case ("POST", "/token"), ("POST", "/oauth2/token"): return tokenEndpoint(request)
        case ("GET", "/v1/userinfo"), ("POST", "/2/users/get_current_account"): return identity(request)
        case ("POST", "/revoke") where kind == .google: return revoke(request)
        case ("POST", "/2/auth/token/revoke") where kind == .dropbox: return revoke(request)
        default: return .json(#"{"error":"not_found"}"#, status: 404)
        }
    }

    /// Consent, given (or refused) at once: a redirect back with a code and the state.
    private func authorize(_ request: LoopbackRequest) -> LoopbackResponse {
        let q = request.query
        guard q["client_id"] == clientID, let redirect = q["redirect_uri"], q["response_type"] == "code",
              let challenge = q["code_challenge"], q["code_challenge_method"] == "S256" else {
            return .json(#"{"error":"invalid_request"}"#, status: 400)
        }
        let stateParameter = q["state"].map { "&state=" + Self.encode($0) } ?? ""
        if state.withLock({ $0.denyConsent }) {
            return LoopbackResponse(status: 302, headers: [("Location", redirect + "?error=access_denied" + stateParameter)])
        }
        let code = token("code")
        let chooses = kind == .google ? (q["prompt"] ?? "").split(separator: " ").contains("select_account") : q["force_reapprove"] == "true"
        state.withLock { s in
            let account = chooses ? s.nextAccount : s.signedIn ?? s.nextAccount
            s.signedIn = account
            s.codes[code] = (challenge, redirect, account)
        }
        return LoopbackResponse(status: 302, headers: [("Location", redirect + "?code=" + code + stateParameter)])
    }

    /// The answer a planned failure gives, at the token and revocation endpoints alike.
    private static func answer(_ failure: Failure) -> LoopbackResponse {
        switch failure {
        case .drop: return LoopbackResponse(behaviour: .drop)
        case .status(let status, let retryAfter):
            return .json(#"{"error":"temporarily_unavailable"}"#, status: status, headers: retryAfter.map { [("Retry-After", String($0))] } ?? [])
        case .oauthError(let status, let error):
            return .json(#"{"error":"\#(error)"}"#, status: status)
        }
    }

    private func tokenEndpoint(_ request: LoopbackRequest) -> LoopbackResponse {
        let failure: Failure? = state.withLock { s in
            s.tokenCalls += 1
            return s.tokenFailures.isEmpty ? nil : s.tokenFailures.removeFirst()
        }
        if let failure { return Self.answer(failure) }
        let form = request.form
        guard form["client_id"] == clientID, form["client_secret"] == clientSecret else {
            return .json(#"{"error":"invalid_client"}"#, status: 401)
        }
        switch form["grant_type"] {
        case "authorization_code":
            let entry = state.withLock { s -> (challenge: String, redirectURI: String, account: Account)? in
                guard let code = form["code"] else { return nil }
                return s.codes.removeValue(forKey: code)  // single use
            }
            guard let entry, entry.redirectURI == form["redirect_uri"], let verifier = form["code_verifier"],
                  Self.challenge(verifier) == entry.challenge else {
                return .json(#"{"error":"invalid_grant","error_description":"Bad code or code_verifier."}"#, status: 400)
            }
            let refresh = token("refresh")
            state.withLock { $0.refreshTokens[refresh] = entry.account }
            return grant(for: entry.account, refresh: refresh)
        case "refresh_token":
            state.withLock { $0.refreshCalls += 1 }
            guard let old = form["refresh_token"], let account = state.withLock({ $0.refreshTokens[old] }) else {
                return .json(#"{"error":"invalid_grant","error_description":"Token has been expired or revoked."}"#, status: 400)
            }
            var rotated: String?
            if state.withLock({ $0.rotateRefreshTokens }) {
                let new = token("refresh")
                state.withLock { s in s.refreshTokens.removeValue(forKey: old); s.refreshTokens[new] = account }
                rotated = new
            }
            return grant(for: account, refresh: rotated)
        default:
            return .json(#"{"error":"unsupported_grant_type"}"#, status: 400)
        }
    }

    private func grant(for account: Account, refresh: String?) -> LoopbackResponse {
        let access = token("access")
        let lifetime = state.withLock { s -> Int in
            s.accessTokens[access] = (account, Date().addingTimeInterval(Double(s.accessTokenLifetime)))
            return s.accessTokenLifetime
        }
        var fields = [#""access_token":"\#(access)""#, #""expires_in":\#(lifetime)"#, #""token_type":"Bearer""#]
        if let refresh { fields.append(#""refresh_token":"\#(refresh)""#) }
        if kind == .dropbox { fields.append(#""account_id":"\#(account.id)""#) }
        return .json("{" + fields.joined(separator: ",") + "}")
    }

    /// Whether an access token this server issued is still good: for the fake Drive's `authorize`.
    public func isValidAccessToken(_ token: String) -> Bool {
        state.withLock { $0.accessTokens[token].map { $0.expiresAt > Date() } ?? false }
    }

    /// The account an access token was issued to, while it is good.
    public func accountOfAccessToken(_ token: String) -> String? {
        state.withLock { s in s.accessTokens[token].flatMap { $0.expiresAt > Date() ? $0.account.id : nil } }
    }

    private func identity(_ request: LoopbackRequest) -> LoopbackResponse {
        let failure: Failure? = state.withLock { s in
            s.identityCalls += 1
            return s.identityFailures.isEmpty ? nil : s.identityFailures.removeFirst()
        }
        if let failure { return Self.answer(failure) }
        guard let bearer = request.headers["authorization"], bearer.hasPrefix("Bearer "),
              let entry = state.withLock({ $0.accessTokens[String(bearer.dropFirst(7))] }), entry.expiresAt > Date() else {
            return kind == .google ? .json(#"{"error":"invalid_token"}"#, status: 401)
                                   : .json(#"{"error":{".tag":"expired_access_token"}}"#, status: 401)
        }
        let a = entry.account
        return kind == .google
            ? .json(#"{"sub":"\#(a.id)","email":"\#(a.email)","email_verified":true,"name":"\#(a.name)"}"#)
            : .json(#"{"account_id":"\#(a.id)","email":"\#(a.email)","name":{"display_name":"\#(a.name)"}}"#)
    }

    /// Google (https://developers.google.com/identity/protocols/oauth2/web-server#tokenrevoke):
    /// `POST /revoke`, `Content-Type: application/x-www-form-urlencoded`, `token=` an access or
    /// refresh token; 200 when revoked, 400 `invalid_token` for a token it does not know. Dropbox
    /// (`/2/auth/token/revoke`): the access token as bearer, no body; 200 `null`, 401 for a bad token.
    /// Either way the whole grant goes: every token of the account.
    private func revoke(_ request: LoopbackRequest) -> LoopbackResponse {
        let token: String
        if kind == .google {
            token = request.form["token"] ?? ""
        } else {
            let bearer = request.headers["authorization"] ?? ""
            token = bearer.hasPrefix("Bearer ") ? String(bearer.dropFirst(7)) : ""
        }
        let failure: Failure? = state.withLock { s in
            let issued: (String, Account?) = s.refreshTokens[token].map { ("refresh", $0) }
                ?? s.accessTokens[token].map { ("access", $0.account) } ?? ("unknown", nil)
            let fields = kind == .google ? String(decoding: request.body, as: UTF8.self).split(separator: "&")
                .map { String($0.prefix { $0 != "=" }) } : []
            s.revocations.append(Revocation(path: request.path, token: token, issuedAs: issued.0, accountID: issued.1?.id,
                                            contentType: request.headers["content-type"], formFields: fields, bodyBytes: request.body.count))
            return s.revokeFailures.isEmpty ? nil : s.revokeFailures.removeFirst()
        }
        if let failure { return Self.answer(failure) }
        if kind == .dropbox && !request.body.isEmpty {
            return .json(#"{"error_summary":"bad_request","error":{".tag":"bad_request"}}"#, status: 400)
        }
        let account: Account? = state.withLock { s in
            guard let account = s.refreshTokens[token] ?? s.accessTokens[token].flatMap({ $0.expiresAt > Date() ? $0.account : nil }) else { return nil }
            s.refreshTokens = s.refreshTokens.filter { $0.value.id != account.id }
            s.accessTokens = s.accessTokens.filter { $0.value.account.id != account.id }
            return account
        }
        guard account != nil else {
            return kind == .google ? .json(#"{"error":"invalid_token","error_description":"Token expired or revoked"}"#, status: 400)
                                   : .json(#"{"error_summary":"invalid_access_token/","error":{".tag":"invalid_access_token"}}"#, status: 401)
        }
        return kind == .google ? .json("{}") : .json("null")
    }

    static func challenge(_ verifier: String) -> String {
        // SHA-256 without a dependency: the fake computes it the slow way, on purpose independent
        // of the product's libsodium path.
        let digest = SHA256.hash(Array(verifier.utf8))
        return Data(digest).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    static func encode(_ s: String) -> String { s.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? s }
}

/// A plain SHA-256 (FIPS 180-4) for the fake provider, written independently of the product's
/// libsodium wrapper so a PKCE bug in one cannot hide behind the same bug in the other.
enum SHA256 {
    static let k: [UInt32] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01,
        0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc,
        0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
        0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08,
        0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
        0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    ]

    static func hash(_ message: [UInt8]) -> [UInt8] {
        var h: [UInt32] = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]
        var data = message + [0x80]
        while data.count % 64 != 56 { data.append(0) }
        let bits = UInt64(message.count) * 8
        for i in (0..<8).reversed() { data.append(UInt8(truncatingIfNeeded: bits >> (UInt64(i) * 8))) }
        for chunk in stride(from: 0, to: data.count, by: 64) {
            var w = [UInt32](repeating: 0, count: 64)
            for i in 0..<16 {
                w[i] = (0..<4).reduce(UInt32(0)) { $0 << 8 | UInt32(data[chunk + i * 4 + $1]) }
            }
            for i in 16..<64 {
                let s0 = w[i - 15].rotatedRight(7) ^ w[i - 15].rotatedRight(18) ^ (w[i - 15] >> 3)
                let s1 = w[i - 2].rotatedRight(17) ^ w[i - 2].rotatedRight(19) ^ (w[i - 2] >> 10)
                w[i] = w[i - 16] &+ s0 &+ w[i - 7] &+ s1
            }
            var (a, b, c, d, e, f, g, hh) = (h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7])
            for i in 0..<64 {
                let s1 = e.rotatedRight(6) ^ e.rotatedRight(11) ^ e.rotatedRight(25)
                let ch = (e & f) ^ (~e & g)
                let t1 = hh &+ s1 &+ ch &+ k[i] &+ w[i]
                let s0 = a.rotatedRight(2) ^ a.rotatedRight(13) ^ a.rotatedRight(22)
                let maj = (a & b) ^ (a & c) ^ (b & c)
                let t2 = s0 &+ maj
                (hh, g, f, e, d, c, b, a) = (g, f, e, d &+ t1, c, b, a, t1 &+ t2)
            }
            h = [h[0] &+ a, h[1] &+ b, h[2] &+ c, h[3] &+ d, h[4] &+ e, h[5] &+ f, h[6] &+ g, h[7] &+ hh]
        }
        return h.flatMap { v in (0..<4).reversed().map { UInt8(truncatingIfNeeded: v >> (UInt32($0) * 8)) } }
    }
}

extension UInt32 {
    func rotatedRight(_ n: UInt32) -> UInt32 { (self >> n) | (self << (32 - n)) }
}
