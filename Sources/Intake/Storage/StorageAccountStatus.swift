/// The state of a storage account (seed: "Storage Account States").
public enum StorageAccountStatus: String, Sendable, CaseIterable {
    /// Fully functional: new uploads, existing files.
    case active = "ACTIVE"
    /// Paused by its owner: no new uploads; existing files stay reachable.
    case inactive = "INACTIVE"
    /// Disconnected by its owner (the grant revoked) or the grant refused by the provider:
    /// nothing reachable until the provider honours a grant again.
    case disconnected = "DISCONNECTED"
    /// A connection problem, thought temporary: nothing reachable until a retry succeeds.
    case error = "ERROR"

    /// Whether new uploads may go to an account in this state.
    public var canCreateUploads: Bool { self == .active }
    /// Whether a portal bound to the account sends new uploads to its backup account: only while
    /// the account fails (ERROR, DISCONNECTED), never while its owner paused it (INACTIVE).
    public var failsOver: Bool { self == .error || self == .disconnected }
    /// The state in a sentence ("the backup account is …").
    public var inWords: String {
        switch self {
        case .active: return "active"
        case .inactive: return "paused"
        case .disconnected: return "disconnected"
        case .error: return "in error"
        }
    }
    /// Whether files stored through an account in this state can be read.
    public var canAccessFiles: Bool { self == .active || self == .inactive }
}

/// What can happen to a storage account.
public enum StorageAccountEvent: String, Sendable, CaseIterable {
    /// The owner pauses uploads ("Pause uploads"): ACTIVE → INACTIVE. The grant is untouched and
    /// files stay reachable.
    case ownerDeactivates
    /// The owner switches a paused account back on: INACTIVE → ACTIVE. Nothing else: coming back
    /// from DISCONNECTED or ERROR needs the provider (`providerReachable` after a token refresh,
    /// or `reconnected`).
    case ownerReactivates
    /// The owner disconnects ("Disconnect"): the grant is revoked at the provider and its tokens
    /// forgotten. From any state to DISCONNECTED (a disconnected account stays so, its leftover
    /// tokens dropped).
    case ownerDisconnects
    /// The provider refused the refresh token (`invalid_grant`) or the owner revoked access.
    case accessRevoked
    /// A network error or a 5xx from the provider.
    case temporaryFailure
    /// A token refresh succeeded: the provider honours the grant. Brings ERROR back, and also
    /// DISCONNECTED — the one way back from it short of the OAuth flow (issue 12 item 7). A
    /// paused account stays paused.
    case providerReachable
    /// The owner went through the OAuth flow again for this account.
    case reconnected
}

/// The seed's transition diagram, as amended by issue 12 (Pause and Disconnect are two actions;
/// DISCONNECTED comes back only through the provider), as a pure function: the next state, or a
/// refusal.
public enum StorageAccountTransitions {
    public struct Refused: Error, Equatable, CustomStringConvertible {
        public let from: StorageAccountStatus
        public let event: StorageAccountEvent
        public var description: String { "a storage account that is \(from.rawValue) cannot take \(event.rawValue)" }
    }

    public static func next(_ from: StorageAccountStatus, _ event: StorageAccountEvent) throws -> StorageAccountStatus {
        switch (from, event) {
        case (.active, .ownerDeactivates): return .inactive

        case (.inactive, .ownerReactivates): return .active

        case (_, .ownerDisconnects): return .disconnected

        case (_, .accessRevoked): return .disconnected  // and a disconnected account stays so

        case (.active, .temporaryFailure), (.error, .temporaryFailure): return .error

        case (.active, .providerReachable), (.error, .providerReachable), (.disconnected, .providerReachable): return .active

        case (_, .reconnected): return .active

        default: throw Refused(from: from, event: event)
        }
    }
}

/// What Intake knows of the OAuth grant behind a cloud storage account — never "valid" once the
/// provider refused it (issue 12 item 6). Derived rather than stored: from whether a refresh
/// token is held, and the account's state, which `AccessTokens` moves by the provider's answers
/// (a refusal → DISCONNECTED with the tokens kept; a network error or 5xx → ERROR) and which
/// Disconnect moves after dropping the tokens.
public enum OAuthGrantState: String, Sendable, CaseIterable {
    /// Tokens held, and the provider's last answer honoured them.
    case valid
    /// Tokens held, but the provider could not be asked: unknown until a check gets through.
    case unchecked
    /// The provider refused the grant (`invalid_grant`, revoked at the provider): reconnect.
    case refused
    /// No grant held: disconnected (revoked and forgotten), or never granted offline access.
    case none

    /// The state for an OAuth account holding (or not) a refresh token, behind a storage account
    /// in `status` (nil: no storage account, so no refusal would have been recorded).
    public static func of(refreshTokenHeld: Bool, status: StorageAccountStatus?) -> OAuthGrantState {
        guard refreshTokenHeld else { return .none }
        switch status {
        case .active?, .inactive?: return .valid
        case .error?, nil: return .unchecked
        case .disconnected?: return .refused
        }
    }

    /// How the settings page says it.
    public var label: String {
        switch self {
        case .valid: return "valid"
        case .unchecked: return "not checked: the provider could not be reached"
        case .refused: return "refused by the provider (reconnect)"
        case .none: return "none held (reconnect)"
        }
    }
}
