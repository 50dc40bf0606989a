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

    struct FailoverCase: Sendable, CustomTestStringConvertible {
        let name: String
        let portalAccount: Int64?
        let backup: Int64?
        let accounts: [A]
        let expected: StorageRules.UploadDecision
        var testDescription: String { name }
    }

    static let refused = StorageRules.UploadDecision.refuse("This portal cannot accept uploads right now.")
    static let driveError = A(id: 7, provider: .googleDrive, status: .error)
    static let boxGone = A(id: 8, provider: .dropbox, status: .disconnected)
    static let boxOff = A(id: 9, provider: .dropbox, status: .inactive)

    /// Rule 1a, the failover step: the backup only while the portal's own account fails.
    static let failoverCases = [
        FailoverCase(name: "own account active: it takes the upload, the backup is not used", portalAccount: 1, backup: 5,
                     accounts: [drive, box], expected: .use(accountID: 1, rule: 1)),
        FailoverCase(name: "own account in error: the active backup takes it", portalAccount: 7, backup: 5,
                     accounts: [driveError, box], expected: .failover(accountID: 5, primaryID: 7)),
        FailoverCase(name: "own account disconnected: the active backup takes it", portalAccount: 4, backup: 5,
                     accounts: [driveGone, box], expected: .failover(accountID: 5, primaryID: 4)),
        FailoverCase(name: "a backup of the same provider works as well", portalAccount: 7, backup: 2,
                     accounts: [driveError, drive2], expected: .failover(accountID: 2, primaryID: 7)),
        FailoverCase(name: "own account paused by its owner: refused, no failover", portalAccount: 3, backup: 5,
                     accounts: [driveOff, box], expected: refused),
        FailoverCase(name: "own account in error, backup in error too: refused", portalAccount: 7, backup: 6,
                     accounts: [driveError, boxError], expected: refused),
        FailoverCase(name: "own account in error, backup disconnected: refused", portalAccount: 7, backup: 8,
                     accounts: [driveError, boxGone], expected: refused),
        FailoverCase(name: "own account in error, backup paused: refused", portalAccount: 7, backup: 9,
                     accounts: [driveError, boxOff], expected: refused),
        FailoverCase(name: "own account in error, backup not the user's: refused", portalAccount: 7, backup: 99,
                     accounts: [driveError, box], expected: refused),
        FailoverCase(name: "own account in error, no backup: refused, never another active account", portalAccount: 7, backup: nil,
                     accounts: [driveError, box, drive], expected: refused),
        FailoverCase(name: "own account gone: refused even with a backup", portalAccount: 42, backup: 5,
                     accounts: [box], expected: refused),
        FailoverCase(name: "backup naming the portal's own failing account: refused", portalAccount: 7, backup: 7,
                     accounts: [driveError], expected: refused),
        FailoverCase(name: "no portal account: rules 2 and 3 as before, the backup plays no part", portalAccount: nil, backup: 5,
                     accounts: [drive, box], expected: .use(accountID: 1, rule: 3)),
    ]

    @Test("getUploadRules with a backup: every row of the failover step", arguments: failoverCases)
    func failover(_ c: FailoverCase) {
        let decision = StorageRules.uploadDecision(portalAccountID: c.portalAccount, backupAccountID: c.backup, portalProvider: nil, accounts: c.accounts)
        #expect(decision == c.expected)
        #expect(decision.accountID == { if case .refuse = c.expected { return nil } else { return c.expected.accountID } }())
    }

    @Test("acceptance while failing over: accepted, the owner told where files go, the client told nothing")
    func failoverAcceptance() {
        let failing = StorageRules.acceptance(portalActive: true, inactiveReason: nil, portalAccountID: 7, backupAccountID: 5, portalProvider: nil,
                                              accounts: [Self.driveError, Self.box])
        #expect(failing.accepts && failing.clientMessage == nil)
        #expect(failing.ownerMessage == "Its storage account has an error; check it again or reconnect it on the Storage page. Until it works again, new files go to the backup account #5.")
        let both = StorageRules.acceptance(portalActive: true, inactiveReason: nil, portalAccountID: 7, backupAccountID: 6, portalProvider: nil,
                                           accounts: [Self.driveError, Self.boxError])
        #expect(!both.accepts && both.clientMessage == "This portal cannot accept uploads right now.")
        #expect(both.ownerMessage?.hasSuffix("Its backup account cannot take files either: it is in error.") == true)
    }

    @Test("backup binding: another of the owner's accounts, active when chosen", arguments: [
        (Int64?(1), Int64?(nil), Result<Int64?, StorageRules.BackupError>.success(nil)),
        (1, 5, .success(5)),
        (1, 2, .success(2)),
        (1, 1, .failure(.sameAsPrimary)),
        (1, 99, .failure(.notYourAccount)),
        (1, 6, .failure(.notActive(.error))),
        (1, 3, .failure(.notActive(.inactive))),
    ] as [(Int64?, Int64?, Result<Int64?, StorageRules.BackupError>)])
    func backupBinding(primary: Int64?, backup: Int64?, expected: Result<Int64?, StorageRules.BackupError>) {
        let accounts = [Self.drive, Self.drive2, Self.driveOff, Self.box, Self.boxError]
        #expect(StorageRules.backupBinding(primaryID: primary, selectedBackupID: backup, accounts: accounts) == expected)
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
