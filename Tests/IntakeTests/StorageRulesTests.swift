import Testing
@testable import Intake

@Suite("Storage rules (upload, download, acceptance, portal binding)")
struct StorageRulesTests {
    typealias A = StorageRules.Account
    static let drive = A(id: 1, provider: .googleDrive, status: .active)
    static let drive2 = A(id: 2, provider: .googleDrive, status: .active)
    static let driveOff = A(id: 3, provider: .googleDrive, status: .inactive)
    static let driveGone = A(id: 4, provider: .googleDrive, status: .disconnected)
    static let box = A(id: 5, provider: .dropbox, status: .active)
    static let boxError = A(id: 6, provider: .dropbox, status: .error)

    struct UploadCase: Sendable, CustomTestStringConvertible {
        let name: String
        let portalAccount: Int64?
        let portalProvider: StorageProviderKind?
        let accounts: [A]
        let expected: StorageRules.UploadDecision
        var testDescription: String { name }
    }

    static let uploadCases = [
        UploadCase(name: "rule 1: the portal's active account", portalAccount: 2, portalProvider: .googleDrive, accounts: [drive, drive2, box],
                   expected: .use(accountID: 2, rule: 1)),
        UploadCase(name: "the portal's account inactive: refused, never another account of the provider", portalAccount: 3, portalProvider: nil,
                   accounts: [driveOff, drive2, box], expected: .refuse("This portal cannot accept uploads right now.")),
        UploadCase(name: "the portal's account in error: refused, never another provider", portalAccount: 6, portalProvider: .dropbox,
                   accounts: [drive, boxError], expected: .refuse("This portal cannot accept uploads right now.")),
        UploadCase(name: "the portal's account is not the user's: refused", portalAccount: 99, portalProvider: .dropbox, accounts: [drive, box],
                   expected: .refuse("This portal cannot accept uploads right now.")),
        UploadCase(name: "no portal account → rule 2 by the portal's provider", portalAccount: nil, portalProvider: .dropbox,
                   accounts: [drive, box], expected: .use(accountID: 5, rule: 2)),
        UploadCase(name: "the portal's account disconnected: refused, no fallback", portalAccount: 4, portalProvider: nil,
                   accounts: [driveGone, box], expected: .refuse("This portal cannot accept uploads right now.")),
        UploadCase(name: "rule 3: no portal account, none of the provider active → any active account", portalAccount: nil, portalProvider: .googleDrive,
                   accounts: [driveGone, box], expected: .use(accountID: 5, rule: 3)),
        UploadCase(name: "rule 3 picks the lowest id", portalAccount: nil, portalProvider: nil, accounts: [box, drive2, drive],
                   expected: .use(accountID: 1, rule: 3)),
        UploadCase(name: "rule 4: nothing active", portalAccount: 1, portalProvider: .googleDrive, accounts: [driveOff, driveGone, boxError],
                   expected: .refuse("This portal cannot accept uploads right now.")),
        UploadCase(name: "rule 4: no accounts at all", portalAccount: nil, portalProvider: nil, accounts: [],
                   expected: .refuse("This portal cannot accept uploads right now.")),
    ]

    @Test("getUploadRules: every rule and fallback", arguments: uploadCases)
    func upload(_ c: UploadCase) {
        #expect(StorageRules.uploadDecision(portalAccountID: c.portalAccount, portalProvider: c.portalProvider, accounts: c.accounts) == c.expected)
    }

    @Test("getDownloadRules: owner only, through the file's own account, reachable states only", arguments: [
        (1, 1, 1, StorageRules.DownloadDecision.allow(accountID: 1)),
        (1, 1, 3, .allow(accountID: 3)),                  // INACTIVE: files stay reachable
        (1, 2, 1, .notFound),                               // someone else's file
        (1, 1, 4, .unavailable("File unavailable: its storage account is disconnected. Reconnect it to reach the file.")),
        (1, 1, 6, .unavailable("File unavailable: its storage account has an error. Try again later.")),
        (1, 1, 42, .unavailable("File unavailable: its storage account no longer exists.")),
    ] as [(Int64, Int64, Int64, StorageRules.DownloadDecision)])
    func download(owner: Int64, requester: Int64, account: Int64, expected: StorageRules.DownloadDecision) {
        let accounts = [Self.drive, Self.drive2, Self.driveOff, Self.driveGone, Self.box, Self.boxError]
        #expect(StorageRules.downloadDecision(fileOwnerID: owner, requesterID: requester, fileAccountID: account, accounts: accounts) == expected)
    }

    @Test("getPortalUploadAcceptance: the client sees one message, the owner the reason")
    func acceptance() {
        let ok = StorageRules.acceptance(portalActive: true, inactiveReason: nil, portalAccountID: 1, portalProvider: nil, accounts: [Self.drive])
        #expect(ok == .init(accepts: true, clientMessage: nil, ownerMessage: nil))
        let disconnected = StorageRules.acceptance(portalActive: false, inactiveReason: "storage_disconnected", portalAccountID: 4, portalProvider: nil,
                                                   accounts: [Self.driveGone])
        #expect(!disconnected.accepts && disconnected.clientMessage == "This portal cannot accept uploads right now.")
        #expect(disconnected.ownerMessage?.contains("reconnect") == true)
        let byOwner = StorageRules.acceptance(portalActive: false, inactiveReason: nil, portalAccountID: 1, portalProvider: nil, accounts: [Self.drive])
        #expect(byOwner.ownerMessage == "You switched this portal off.")
        let paused = StorageRules.acceptance(portalActive: true, inactiveReason: nil, portalAccountID: 3, portalProvider: nil, accounts: [Self.driveOff, Self.box])
        #expect(!paused.accepts && paused.ownerMessage == "Its storage account is paused; reactivate it on the Storage page.", "no fallback to another account")
        let failing = StorageRules.acceptance(portalActive: true, inactiveReason: nil, portalAccountID: 6, portalProvider: nil, accounts: [Self.boxError, Self.drive])
        #expect(!failing.accepts && failing.ownerMessage?.contains("has an error") == true)
        let fallback = StorageRules.acceptance(portalActive: true, inactiveReason: nil, portalAccountID: nil, portalProvider: nil, accounts: [Self.driveOff, Self.box])
        #expect(fallback.accepts && fallback.ownerMessage == "It has no storage account of its own; files go to your active account #5.")
        let none = StorageRules.acceptance(portalActive: true, inactiveReason: nil, portalAccountID: nil, portalProvider: nil, accounts: [Self.driveOff])
        #expect(!none.accepts && none.ownerMessage?.contains("No active storage account") == true)
    }

    @Test("validatePortalCreationWithStorage: only an active account of the provider, and only the user's", arguments: [
        (StorageProviderKind.googleDrive, nil, Result<Int64, StorageRules.BindingError>.success(1)),
        (.googleDrive, 2, .success(2)),
        (.googleDrive, 3, .failure(.notActive(.inactive))),
        (.googleDrive, 4, .failure(.notActive(.disconnected))),
        (.googleDrive, 5, .failure(.providerMismatch)),
        (.googleDrive, 77, .failure(.notYourAccount)),
        (.local, nil, .failure(.noAccountForProvider)),
    ] as [(StorageProviderKind, Int64?, Result<Int64, StorageRules.BindingError>)])
    func binding(provider: StorageProviderKind, selected: Int64?, expected: Result<Int64, StorageRules.BindingError>) {
        let accounts = [Self.drive, Self.drive2, Self.driveOff, Self.driveGone, Self.box]
        #expect(StorageRules.portalBinding(provider: provider, selectedAccountID: selected, accounts: accounts) == expected)
    }

    @Test("no active account of the provider is refused with its own message")
    func noActive() {
        #expect(StorageRules.portalBinding(provider: .dropbox, selectedAccountID: nil, accounts: [Self.boxError]) == .failure(.noActiveAccount))
    }
}
