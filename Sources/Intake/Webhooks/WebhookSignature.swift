import Foundation
import Sodium

/// The `Intake-Signature` header: `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
/// The key is the endpoint's secret as text (`whsec_…`, its UTF-8 bytes). Signing the time with
/// the body lets a receiver refuse a replayed request: `verify` refuses a signature older (or
/// newer) than `tolerance` seconds, and any change to the body or the time.
public enum WebhookSignature {
    /// How far a signature's time may be from the receiver's clock (five minutes).
    public static let defaultTolerance: Int64 = 300

    /// The hex HMAC-SHA256 of `"<timestamp>.<body>"` under `secret`.
    public static func hmac(secret: String, timestamp: Int64, body: [UInt8]) -> String {
        Sodium.hex(Digest.hmacSHA256(key: Array(secret.utf8), Array("\(timestamp).".utf8) + body))
    }

    /// The header value for `body` sent at `timestamp`.
    public static func header(secret: String, timestamp: Int64, body: [UInt8]) -> String {
        "t=\(timestamp),v1=\(hmac(secret: secret, timestamp: timestamp, body: body))"
    }

    /// Why a signature was refused.
    public enum Failure: Error, Equatable, Sendable {
        /// No `t=` or no `v1=`, or a `t=` that is not a number.
        case malformed
        /// The time is more than `tolerance` seconds from `now`.
        case outsideTolerance
        /// No `v1=` matches the body under the secret.
        case mismatch
    }

    /// Checks a received `Intake-Signature` header against the raw body and the endpoint's secret,
    /// at `now` (unix seconds). Several `v1=` may be present (during a secret's rotation a
    /// receiver may check each); any one matching passes. Comparison is in constant time.
    public static func verify(header: String, body: [UInt8], secret: String, now: Int64, tolerance: Int64 = defaultTolerance) throws(Failure) {
        var timestamp: Int64?
        var signatures: [String] = []
        for part in header.split(separator: ",") {
            let pair = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pair.count == 2 else { continue }
            if pair[0] == "t" { timestamp = Int64(pair[1]) } else if pair[0] == "v1" { signatures.append(pair[1].lowercased()) }
        }
        guard let timestamp, !signatures.isEmpty else { throw .malformed }
        guard abs(now - timestamp) <= tolerance else { throw .outsideTolerance }
        let expected = Array(hmac(secret: secret, timestamp: timestamp, body: body).utf8)
        guard signatures.contains(where: { Sodium.constantTimeEqual(Array($0.utf8), expected) }) else { throw .mismatch }
    }
}
