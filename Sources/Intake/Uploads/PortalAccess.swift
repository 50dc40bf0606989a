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

/// What a client keeps to follow a file it sent: the upload id, signed with the secret key. It
/// shows the file's name and delivery status, nothing else, so it needs no expiry.
public enum UploadReceipt {
    public static func token(uploadID: Int64, key: [UInt8]) -> String {
        "\(uploadID)." + Digest.base64URL(Digest.hmacSHA256(key: key, Array("receipt:\(uploadID)".utf8)))
    }

    /// The upload id of a genuine token.
    public static func uploadID(_ token: String, key: [UInt8]) -> Int64? {
        let parts = token.split(separator: ".")
        guard parts.count == 2, let id = Int64(parts[0]), let signature = Digest.fromBase64URL(String(parts[1])) else { return nil }
        return Sodium.constantTimeEqual(signature, Digest.hmacSHA256(key: key, Array("receipt:\(id)".utf8))) ? id : nil
    }
}
