import Testing
@testable import Intake

@Suite("Storage account states")
struct StorageAccountStatusTests {
    typealias S = StorageAccountStatus
    typealias E = StorageAccountEvent

    /// Every state × event of the seed's diagram as issue 12 amends it (Pause and Disconnect are
    /// two actions; DISCONNECTED comes back only through the provider), with the expected
    /// outcome (nil: refused).
    static let table: [(S, E, S?)] = [
        (.active, .ownerDeactivates, .inactive), (.inactive, .ownerDeactivates, nil),
        (.disconnected, .ownerDeactivates, nil), (.error, .ownerDeactivates, nil),
        (.active, .ownerReactivates, nil), (.inactive, .ownerReactivates, .active),
        (.disconnected, .ownerReactivates, nil), (.error, .ownerReactivates, nil),
        (.active, .ownerDisconnects, .disconnected), (.inactive, .ownerDisconnects, .disconnected),
        (.disconnected, .ownerDisconnects, .disconnected), (.error, .ownerDisconnects, .disconnected),
        (.active, .accessRevoked, .disconnected), (.inactive, .accessRevoked, .disconnected),
        (.disconnected, .accessRevoked, .disconnected), (.error, .accessRevoked, .disconnected),
        (.active, .temporaryFailure, .error), (.inactive, .temporaryFailure, nil),
        (.disconnected, .temporaryFailure, nil), (.error, .temporaryFailure, .error),
        (.active, .providerReachable, .active), (.inactive, .providerReachable, nil),
        (.disconnected, .providerReachable, .active), (.error, .providerReachable, .active),
        (.active, .reconnected, .active), (.inactive, .reconnected, .active),
        (.disconnected, .reconnected, .active), (.error, .reconnected, .active),
    ]

    @Test("the table covers every state and event")
    func complete() {
        #expect(Self.table.count == S.allCases.count * E.allCases.count)
        for s in S.allCases { for e in E.allCases { #expect(Self.table.contains { $0.0 == s && $0.1 == e }, "\(s) \(e)") } }
    }

    @Test("transitions: allowed and refused", arguments: table.indices)
    func transition(_ i: Int) {
        let (from, event, expected) = Self.table[i]
        if let expected {
            #expect((try? StorageAccountTransitions.next(from, event)) == expected, "\(from) + \(event)")
        } else {
            #expect(throws: StorageAccountTransitions.Refused(from: from, event: event)) { try StorageAccountTransitions.next(from, event) }
        }
    }

    /// What is known of the grant, for every state, with and without a refresh token held.
    static let grants: [(Bool, S?, OAuthGrantState)] = [
        (true, .active, .valid), (true, .inactive, .valid), (true, .error, .unchecked), (true, .disconnected, .refused), (true, nil, .unchecked),
        (false, .active, .none), (false, .inactive, .none), (false, .error, .none), (false, .disconnected, .none), (false, nil, .none),
    ]

    @Test("the grant state: valid only while the provider's last answer honoured it", arguments: grants.indices)
    func grant(_ i: Int) {
        let (held, status, expected) = Self.grants[i]
        #expect(OAuthGrantState.of(refreshTokenHeld: held, status: status) == expected, "\(held) \(String(describing: status))")
    }

    @Test("no grant state but valid is labelled valid")
    func grantLabels() {
        #expect(OAuthGrantState.allCases.filter { $0.label.hasPrefix("valid") } == [.valid])
        #expect(OAuthGrantState.refused.label.contains("reconnect") && OAuthGrantState.none.label.contains("reconnect"))
    }

    @Test("what each state allows")
    func capabilities() {
        #expect(S.allCases.filter(\.canCreateUploads) == [.active])
        #expect(S.allCases.filter(\.canAccessFiles) == [.active, .inactive])
    }
}
