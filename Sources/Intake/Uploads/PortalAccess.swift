import Sodium

/// The short-lived token a client gets after entering a portal's password: the portal id and an
/// expiry, signed with the secret key (HMAC-SHA-256), so every worker can check it without a
/// session.
public enum PortalAccess {
    public static let lifetimeSeconds: Int64 = 2 * 3600

    public static func token(portalID: Int64, now: Int64, key: [UInt8]) -> String {
        let payload = "\(portalID).\(now + lifetimeSeconds)"
        return payload + "." + Digest.base64URL(Digest.hmacSHA256(key: key, Array(("portal:" + payload).utf8)))
    }

    public static func isValid(_ token: String, portalID: Int64, now: Int64, key: [UInt8]) -> Bool {
        let parts = token.split(separator: ".")
        guard parts.count == 3, Int64(parts[0]) == portalID, let expires = Int64(parts[1]), expires > now,
              let signature = Digest.fromBase64URL(String(parts[2])) else { return false }
        let expected = Digest.hmacSHA256(key: key, Array("portal:\(parts[0]).\(parts[1])".utf8))
        return Sodium.constantTimeEqual(signature, expected)
    }
}

/// What a client keeps to follow a file it sent: the upload id and a signature over the id and
/// the file's own random secret (`receipt_secret`), made with the site's key. It shows the file's
/// name and delivery status, nothing else, so it needs no expiry; and since the secret is the
/// file's own, a receipt never names another file, even one that got the same id.
public enum UploadReceipt {
    /// A new file's receipt secret.
    public static func newSecret() -> String { Digest.base64URL(Sodium.randomBytes(16)) }

    public static func token(uploadID: Int64, secret: String?, key: [UInt8]) -> String {
        "\(uploadID)." + Digest.base64URL(signature(uploadID, secret, key))
    }

    /// The upload id a token names; whether it is genuine is for `isGenuine` to say, with the
    /// secret of the file that has that id now.
    public static func uploadID(_ token: String) -> Int64? {
        let parts = token.split(separator: ".")
        guard parts.count == 2, let id = Int64(parts[0]), id > 0 else { return nil }
        return id
    }

    public static func isGenuine(_ token: String, uploadID: Int64, secret: String?, key: [UInt8]) -> Bool {
        let parts = token.split(separator: ".")
        guard parts.count == 2, Int64(parts[0]) == uploadID, let sent = Digest.fromBase64URL(String(parts[1])) else { return false }
        return Sodium.constantTimeEqual(sent, signature(uploadID, secret, key))
    }

    /// Files recorded before receipt secrets existed (nil) keep the receipts they were given.
    private static func signature(_ id: Int64, _ secret: String?, _ key: [UInt8]) -> [UInt8] {
        Digest.hmacSHA256(key: key, Array((secret.map { "receipt:\(id):\($0)" } ?? "receipt:\(id)").utf8))
    }
}
