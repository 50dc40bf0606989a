import Sodium
import Web

/// A one-time message shown on the page after a redirect ("Saved."), carried in a cookie signed
/// with the secret key so nobody can make the site display their own text.
public struct Flash: Sendable, Equatable {
    public enum Kind: String, Sendable { case success, error, info }
    public let kind: Kind
    public let message: String

    static let cookieName = "intake_flash"

    func cookie(key: [UInt8], secure: Bool) -> SetCookie {
        let payload = Digest.base64URL(Array("\(kind.rawValue)\n\(message.prefix(500))".utf8))
        let signature = Digest.base64URL(Digest.hmacSHA256(key: key, Array(("flash:" + payload).utf8)))
        return SetCookie(name: Self.cookieName, value: payload + "." + signature, maxAge: 60, secure: secure)
    }

    /// The flash in a request's cookie, if present and correctly signed.
    static func read(_ request: Request, key: [UInt8]) -> Flash? {
        guard let value = request.cookies[cookieName], let dot = value.firstIndex(of: ".") else { return nil }
        let payload = String(value[..<dot])
        guard let signature = Digest.fromBase64URL(String(value[value.index(after: dot)...])),
              Sodium.constantTimeEqual(signature, Digest.hmacSHA256(key: key, Array(("flash:" + payload).utf8))),
              let bytes = Digest.fromBase64URL(payload), let text = String(validating: bytes, as: UTF8.self),
              let newline = text.firstIndex(of: "\n"), let kind = Kind(rawValue: String(text[..<newline])) else { return nil }
        return Flash(kind: kind, message: String(text[text.index(after: newline)...]))
    }

    static func clearing(secure: Bool) -> SetCookie { SetCookie(name: cookieName, value: "", maxAge: 0, secure: secure) }
}
