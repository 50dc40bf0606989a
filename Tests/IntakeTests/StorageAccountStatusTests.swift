import Testing
@testable import Intake

@Suite("Storage account states")
struct StorageAccountStatusTests {
    typealias S = StorageAccountStatus
    typealias E = StorageAccountEvent

    /// Every state × event of the seed's diagram, with the expected outcome (nil: refused).
    static let table: [(S, E, S?)] = [
        (.active, .ownerDeactivates, .inactive), (.inactive, .ownerDeactivates, .disconnected),
        (.disconnected, .ownerDeactivates, nil), (.error, .ownerDeactivates, nil),
        (.active, .ownerReactivates, nil), (.inactive, .ownerReactivates, .active),
        (.disconnected, .ownerReactivates, .active), (.error, .ownerReactivates, nil),
        (.active, .accessRevoked, .disconnected), (.inactive, .accessRevoked, .disconnected),
        (.disconnected, .accessRevoked, .disconnected), (.error, .accessRevoked, .disconnected),
        (.active, .temporaryFailure, .error), (.inactive, .temporaryFailure, nil),
        (.disconnected, .temporaryFailure, nil), (.error, .temporaryFailure, .error),
        (.active, .providerReachable, .active), (.inactive, .providerReachable, nil),
        (.disconnected, .providerReachable, nil), (.error, .providerReachable, .active),
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

    @Test("what each state allows")
    func capabilities() {
        #expect(S.allCases.filter(\.canCreateUploads) == [.active])
        #expect(S.allCases.filter(\.canAccessFiles) == [.active, .inactive])
    }
}
