/// The state of a storage account (seed: "Storage Account States").
public enum StorageAccountStatus: String, Sendable, CaseIterable {
    /// Fully functional: new uploads, existing files.
    case active = "ACTIVE"
    /// Switched off by its owner: no new uploads; existing files stay reachable.
    case inactive = "INACTIVE"
    /// OAuth revoked or refresh refused for good: nothing reachable until reconnected.
    case disconnected = "DISCONNECTED"
    /// A connection problem, thought temporary: nothing reachable until a retry succeeds.
    case error = "ERROR"

    /// Whether new uploads may go to an account in this state.
    public var canCreateUploads: Bool { self == .active }
    /// Whether files stored through an account in this state can be read.
    public var canAccessFiles: Bool { self == .active || self == .inactive }
}

/// What can happen to a storage account.
public enum StorageAccountEvent: String, Sendable, CaseIterable {
    /// The owner switches it off (ACTIVE → INACTIVE, and INACTIVE → DISCONNECTED).
    case ownerDeactivates
    /// The owner switches it back on (INACTIVE → ACTIVE, DISCONNECTED → ACTIVE).
    case ownerReactivates
    /// The provider refused the refresh token (`invalid_grant`) or the owner revoked access.
    case accessRevoked
    /// A network error or a 5xx from the provider.
    case temporaryFailure
    /// A call to the provider succeeded again (the automatic retry, a refresh).
    case providerReachable
    /// The owner went through the OAuth flow again for this account.
    case reconnected
}

/// The seed's transition diagram as a pure function: the next state, or a refusal.
public enum StorageAccountTransitions {
    public struct Refused: Error, Equatable, CustomStringConvertible {
        public let from: StorageAccountStatus
        public let event: StorageAccountEvent
        public var description: String { "a storage account that is \(from.rawValue) cannot take \(event.rawValue)" }
    }

    public static func next(_ from: StorageAccountStatus, _ event: StorageAccountEvent) throws -> StorageAccountStatus {
        switch (from, event) {
        case (.active, .ownerDeactivates): return .inactive
        case (.inactive, .ownerDeactivates): return .disconnected

        case (.inactive, .ownerReactivates), (.disconnected, .ownerReactivates): return .active

        case (.active, .accessRevoked), (.inactive, .accessRevoked), (.error, .accessRevoked), (.disconnected, .accessRevoked):
            return .disconnected  // and a disconnected account stays so

        case (.active, .temporaryFailure), (.error, .temporaryFailure): return .error

        case (.error, .providerReachable), (.active, .providerReachable): return .active

        case (_, .reconnected): return .active

        default: throw Refused(from: from, event: event)
        }
    }
}
