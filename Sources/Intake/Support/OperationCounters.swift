import Integrations

/// How a file reached Intake.
public enum UploadTransfer: String, Sendable, CaseIterable {
    /// In one request: a portal's form or `POST /api/upload`.
    case multipart
    /// In chunks, resumable, through `/api/tus/`.
    case tus
}

/// How a refresh of an OAuth access token at its provider ended.
public enum TokenRefreshResult: String, Sendable, CaseIterable {
    /// A new access token.
    case ok
    /// The grant is gone (`invalid_grant`, revoked, no refresh token held): the account is DISCONNECTED.
    case revoked
    /// The provider could not be reached or answered 5xx: the account is in ERROR.
    case unavailable
    /// Any other refusal (a wrong client secret, the provider not configured): nothing changes.
    case refused
}

/// What the domain counts for the operator's `/metrics`: files accepted, token refreshes and
/// background job runs. The executable wires counters that every process of `intake serve` adds
/// to; tests and the operator commands count nothing (`.none`).
public protocol OperationCounters: Sendable {
    /// A file was accepted (recorded, its bytes taken from the quota): `bytes` is its size.
    func fileAccepted(_ transfer: UploadTransfer, bytes: Int64)
    /// A refresh of an access token at `provider` ended with `result`.
    func tokenRefreshed(_ provider: OAuthProvider.Kind, _ result: TokenRefreshResult)
    /// Background job `job` (one of `Jobs.names`) ran, and failed or not.
    func jobRan(_ job: String, failed: Bool)
}

/// Counts nothing.
public struct UncountedOperations: OperationCounters {
    public init() {}
    public func fileAccepted(_ transfer: UploadTransfer, bytes: Int64) {}
    public func tokenRefreshed(_ provider: OAuthProvider.Kind, _ result: TokenRefreshResult) {}
    public func jobRan(_ job: String, failed: Bool) {}
}

extension OperationCounters where Self == UncountedOperations {
    /// Counts nothing.
    public static var none: UncountedOperations { UncountedOperations() }
}
