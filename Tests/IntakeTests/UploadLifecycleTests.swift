import Testing
@testable import Intake

@Suite("Upload lifecycles (recorded files and tus uploads) as complete tables")
struct UploadLifecycleTests {
    typealias F = FileUploadStatus
    typealias FE = FileUploadEvent
    static let fileTable: [(F, FE, FileUploadLifecycle.Outcome?)] = [
        (.delivering, .providerStored, .to(.uploaded)), (.delivering, .attemptFailed, .to(.delivering)), (.delivering, .gaveUp, .to(.failed)),
        (.delivering, .ownerRetries, nil), (.delivering, .refusedOnArrival, .removed), (.delivering, .retentionEnded, nil),
        (.delivering, .ownerDeletes, .removed),
        (.uploaded, .providerStored, nil), (.uploaded, .attemptFailed, nil), (.uploaded, .gaveUp, nil), (.uploaded, .ownerRetries, nil),
        (.uploaded, .refusedOnArrival, nil), (.uploaded, .retentionEnded, nil), (.uploaded, .ownerDeletes, .removed),
        (.failed, .providerStored, nil), (.failed, .attemptFailed, nil), (.failed, .gaveUp, nil), (.failed, .ownerRetries, .to(.delivering)),
        (.failed, .refusedOnArrival, nil), (.failed, .retentionEnded, .removed), (.failed, .ownerDeletes, .removed),
    ]

    @Test("the file table covers every state and event")
    func fileTableComplete() {
        #expect(Self.fileTable.count == F.allCases.count * FE.allCases.count)
        for s in F.allCases { for e in FE.allCases { #expect(Self.fileTable.contains { $0.0 == s && $0.1 == e }, "\(s) × \(e)") } }
    }

    @Test("file transitions: allowed and refused", arguments: 0..<21)
    func fileTransitions(_ i: Int) {
        let (from, event, expected) = Self.fileTable[i]
        if let expected {
            #expect((try? FileUploadLifecycle.next(from, event)) == expected)
        } else {
            #expect(throws: FileUploadLifecycle.Refused(from: from, event: event)) { try FileUploadLifecycle.next(from, event) }
        }
    }

    typealias T = TusUploadStatus
    typealias TE = TusUploadEvent
    static let tusAllowed: [(T, TE, T)] = [
        (.receiving, .complete, .received), (.received, .complete, .received), (.scanning, .complete, .received),
        (.received, .scanStarts, .scanning), (.received, .deliveryStarts, .delivering), (.scanning, .deliveryStarts, .delivering),
        (.delivering, .recordedAndStored, .uploaded), (.delivering, .recordedForDelivery, .delivering),
        (.received, .scannerDown, .received), (.scanning, .scannerDown, .received),
        (.received, .refused, .rejected), (.scanning, .refused, .rejected), (.delivering, .refused, .rejected),
    ]

    @Test("tus: every state × event is either in the allowed table or refused; finished uploads take nothing")
    func tusTable() {
        for s in T.allCases {
            for e in TE.allCases {
                if let row = Self.tusAllowed.first(where: { $0.0 == s && $0.1 == e }) {
                    #expect((try? TusUploadLifecycle.next(s, e)) == row.2, "\(s) × \(e)")
                } else {
                    #expect(throws: TusUploadLifecycle.Refused(from: s, event: e)) { try TusUploadLifecycle.next(s, e) }
                }
            }
        }
        for done in [T.uploaded, .rejected] { #expect(!done.isOpen && TE.allCases.allSatisfy { (try? TusUploadLifecycle.next(done, $0)) == nil }) }
        #expect(T.allCases.filter(\.isOpen) == [.receiving, .received, .scanning])
    }

    @Test("the schema's lists come from the enums")
    func sqlLists() {
        #expect(F.sqlList == "'delivering', 'uploaded', 'failed'")
        #expect(T.sqlList == "'receiving', 'received', 'scanning', 'delivering', 'uploaded', 'rejected'")
    }

    @Test("a portal switched off by its account says why, for every state but ACTIVE, and reads back")
    func inactiveReasons() {
        #expect(PortalInactiveReason(accountStatus: .active) == nil)
        #expect(PortalInactiveReason(accountStatus: .inactive) == .storageInactive)
        #expect(PortalInactiveReason(accountStatus: .disconnected) == .storageDisconnected)
        #expect(PortalInactiveReason(accountStatus: .error) == .storageError)
        for reason in PortalInactiveReason.allCases { #expect(PortalInactiveReason(rawValue: reason.rawValue) == reason && !reason.ownerMessage.isEmpty) }
    }

    @Test("token refresh: a fresh token is used, a taken lease refreshes, a busy one is waited for until the deadline")
    func tokenRefresh() {
        #expect(TokenRefreshMachine.next(.tokenFresh, now: 100, deadline: 90) == .useToken)
        #expect(TokenRefreshMachine.next(.leaseTaken, now: 100, deadline: 90) == .refreshUnderLease)
        #expect(TokenRefreshMachine.next(.leaseHeldElsewhere, now: 89, deadline: 90) == .waitAndLookAgain)
        #expect(TokenRefreshMachine.next(.leaseHeldElsewhere, now: 90, deadline: 90) == .giveUp)
        #expect(TokenRefreshMachine.next(.leaseHeldElsewhere, now: 500, deadline: 90) == .giveUp)
    }
}
