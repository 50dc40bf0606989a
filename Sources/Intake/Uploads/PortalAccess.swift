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
