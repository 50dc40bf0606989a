/// Getting a valid access token for an OAuth account, as a small state machine: each look at
/// the account is an observation, and the machine says what to do next; `AccessTokens` is the
/// driver that looks, refreshes and waits (through the injected clock, never the wall clock).
public enum TokenRefreshMachine {
    /// What one look at the account found.
    public enum Observation: Sendable, Equatable {
        /// The stored access token is good for five more minutes.
        case tokenFresh
        /// This caller took the account's refresh lease.
        case leaseTaken
        /// Another caller holds the lease: its refresh is under way.
        case leaseHeldElsewhere
    }

    public enum Action: Sendable, Equatable {
        /// Use the stored token.
        case useToken
        /// Look once more (someone may have refreshed meanwhile), then refresh at the provider.
        case refreshUnderLease
        /// Wait a moment, then look again.
        case waitAndLookAgain
        /// The other refresh did not finish in time: a temporary failure.
        case giveUp
    }

    /// The next action, given what was seen at `now` and when waiting ends.
    public static func next(_ observation: Observation, now: Int64, deadline: Int64) -> Action {
        switch observation {
        case .tokenFresh: return .useToken
        case .leaseTaken: return .refreshUnderLease
        case .leaseHeldElsewhere: return now < deadline ? .waitAndLookAgain : .giveUp
        }
    }

    /// How long a waiter pauses between looks.
    public static let pauseMilliseconds = 50
}
