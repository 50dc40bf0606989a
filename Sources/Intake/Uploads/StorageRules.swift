/// The seed's file-binding and portal rules as pure functions over what they look at, so every
/// rule and fallback is tested as a table.
public enum StorageRules {
    /// What the rules need to know of a storage account.
    public struct Account: Sendable, Equatable {
        public let id: Int64
        public let provider: StorageProviderKind
        public let status: StorageAccountStatus
        public init(id: Int64, provider: StorageProviderKind, status: StorageAccountStatus) {
            self.id = id
            self.provider = provider
            self.status = status
        }

        public init(_ account: StorageAccount) {
            self.init(id: account.id, provider: account.provider, status: account.status)
        }
    }

    /// Where an upload goes, or why it cannot go anywhere.
    public enum UploadDecision: Sendable, Equatable {
        /// Use this account; `rule` is the seed's rule number that chose it (1, 2 or 3).
        case use(accountID: Int64, rule: Int)
        /// The portal's own account (`primaryID`) is in ERROR or DISCONNECTED: its backup takes
        /// the upload, and the file stays bound to the backup for good.
        case failover(accountID: Int64, primaryID: Int64)
        /// Rule 4: no active account; the message is for the client page.
        case refuse(String)

        /// The account the upload goes to; nil when refused.
        public var accountID: Int64? {
            switch self {
            case .use(let id, _), .failover(let id, _): return id
            case .refuse: return nil
            }
        }
    }

    /// `getUploadRules`: 1. a portal with an account uses it if it is the user's and ACTIVE;
    /// 1a. while that account is in ERROR or DISCONNECTED (not paused by the owner, not gone),
    /// the portal's backup account takes the upload if it is another of the user's accounts and
    /// ACTIVE; otherwise the portal takes no uploads (never another account, let alone another
    /// provider); a portal without an account: 2. an ACTIVE account of the portal's provider;
    /// 3. else any ACTIVE account; 4. else refuse. Lowest id first among equals, so the choice
    /// is stable.
    public static func uploadDecision(portalAccountID: Int64?, backupAccountID: Int64? = nil, portalProvider: StorageProviderKind?,
                                      accounts: [Account]) -> UploadDecision {
        let refusal = UploadDecision.refuse("This portal cannot accept uploads right now.")
        if let portalAccountID {
            guard let own = accounts.first(where: { $0.id == portalAccountID }) else { return refusal }
            if own.status.canCreateUploads { return .use(accountID: own.id, rule: 1) }
            guard own.status.failsOver, let backupAccountID, backupAccountID != own.id,
                  let backup = accounts.first(where: { $0.id == backupAccountID }), backup.status.canCreateUploads else { return refusal }
            return .failover(accountID: backup.id, primaryID: own.id)
        }
        let active = accounts.filter { $0.status.canCreateUploads }.sorted { $0.id < $1.id }
        if let portalProvider, let sameProvider = active.first(where: { $0.provider == portalProvider }) {
            return .use(accountID: sameProvider.id, rule: 2)
        }
        if let any = active.first { return .use(accountID: any.id, rule: 3) }
        return refusal
    }

    /// Whether a stored file can be downloaded, and through which account.
    public enum DownloadDecision: Sendable, Equatable {
        case allow(accountID: Int64)
        /// The account behind the file cannot be reached (DISCONNECTED or ERROR, or gone).
        case unavailable(String)
        /// Not the file's owner: answered as not found, so ids reveal nothing.
        case notFound
    }

    /// `getDownloadRules`: only the owner; only through the account the file is bound to (never
    /// another); ACTIVE or INACTIVE yes, DISCONNECTED or ERROR "File unavailable".
    public static func downloadDecision(fileOwnerID: Int64, requesterID: Int64, fileAccountID: Int64, accounts: [Account]) -> DownloadDecision {
        guard fileOwnerID == requesterID else { return .notFound }
        guard let account = accounts.first(where: { $0.id == fileAccountID }) else {
            return .unavailable("File unavailable: its storage account no longer exists.")
        }
        guard account.status.canAccessFiles else {
            return .unavailable(account.status == .disconnected
                                ? "File unavailable: its storage account is disconnected. Reconnect it to reach the file."
                                : "File unavailable: its storage account has an error. Try again later.")
        }
        return .allow(accountID: account.id)
    }

    /// Whether a portal takes uploads now, with one message for the client and one for the owner.
    public struct Acceptance: Sendable, Equatable {
        public let accepts: Bool
        public let clientMessage: String?
        public let ownerMessage: String?
    }

    /// An owner with no room left (at or over quota): nothing is taken until they free space or
    /// buy more; what is stored stays.
    public static let storageFull = Acceptance(
        accepts: false, clientMessage: "This portal cannot take files right now: its owner's storage is full.",
        ownerMessage: "Your storage is full, so your portals refuse uploads. Delete files or buy more storage.")

    /// `getPortalUploadAcceptance`.
    public static func acceptance(portalActive: Bool, inactiveReason: String?, portalAccountID: Int64?, backupAccountID: Int64? = nil,
                                  portalProvider: StorageProviderKind?, accounts: [Account]) -> Acceptance {
        let cannot = "This portal cannot accept uploads right now."
        if !portalActive {
            let owner = inactiveReason.flatMap(PortalInactiveReason.init(rawValue:))?.ownerMessage ?? "You switched this portal off."
            return Acceptance(accepts: false, clientMessage: cannot, ownerMessage: owner)
        }
        switch uploadDecision(portalAccountID: portalAccountID, backupAccountID: backupAccountID, portalProvider: portalProvider, accounts: accounts) {
        case .use(_, let rule) where rule == 1:
            return Acceptance(accepts: true, clientMessage: nil, ownerMessage: nil)
        case .failover(let id, let primaryID):
            let status = accounts.first { $0.id == primaryID }?.status
            return Acceptance(accepts: true, clientMessage: nil,
                              ownerMessage: accountMessage(status) + " Until it works again, new files go to the backup account #\(id).")
        case .use(let id, _):
            return Acceptance(accepts: true, clientMessage: nil,
                              ownerMessage: "It has no storage account of its own; files go to your active account #\(id).")
        case .refuse:
            if let portalAccountID {
                let status = accounts.first { $0.id == portalAccountID }?.status
                var message = accountMessage(status)
                if status?.failsOver == true, let backupAccountID {
                    let backup = accounts.first { $0.id == backupAccountID }?.status
                    message += " Its backup account cannot take files either: " + (backup.map { "it is \($0.inWords)." } ?? "it no longer exists.")
                }
                return Acceptance(accepts: false, clientMessage: cannot, ownerMessage: message)
            }
            return Acceptance(accepts: false, clientMessage: cannot,
                              ownerMessage: "No active storage account: connect or reactivate one on the Storage page.")
        }
    }

    /// `acceptance` for a portal among its owner's accounts.
    public static func acceptance(of portal: Portal, accounts: [StorageAccount]) -> Acceptance {
        acceptance(portalActive: portal.active, inactiveReason: portal.inactiveReason, portalAccountID: portal.storageAccountID,
                   backupAccountID: portal.backupStorageAccountID, portalProvider: nil, accounts: accounts.map(Account.init))
    }

    /// Why a portal's own account takes no uploads, for the owner.
    public static func accountMessage(_ status: StorageAccountStatus?) -> String {
        switch status {
        case .inactive?: return "Its storage account is paused; reactivate it on the Storage page."
        case .disconnected?: return "Its storage account is disconnected; reconnect it on the Storage page."
        case .error?: return "Its storage account has an error; check it again or reconnect it on the Storage page."
        case .active?: return "Its storage account is active."
        case nil: return "Its storage account no longer exists; choose another one for the portal."
        }
    }

    /// `validatePortalCreationWithStorage`: the account a new portal binds to, or why none can.
    public static func portalBinding(provider: StorageProviderKind, selectedAccountID: Int64?, accounts: [Account]) -> Result<Int64, BindingError> {
        let ofProvider = accounts.filter { $0.provider == provider }
        guard !ofProvider.isEmpty else { return .failure(.noAccountForProvider) }
        if let selectedAccountID {
            guard let selected = accounts.first(where: { $0.id == selectedAccountID }) else { return .failure(.notYourAccount) }
            guard selected.provider == provider else { return .failure(.providerMismatch) }
            guard selected.status == .active else { return .failure(.notActive(selected.status)) }
            return .success(selected.id)
        }
        guard let active = ofProvider.filter({ $0.status == .active }).min(by: { $0.id < $1.id }) else { return .failure(.noActiveAccount) }
        return .success(active.id)
    }

    /// A portal's backup account (`selectedBackupID`, nil: none): another of the owner's accounts
    /// than the portal's own (`primaryID`), of any provider, ACTIVE when chosen.
    public static func backupBinding(primaryID: Int64?, selectedBackupID: Int64?, accounts: [Account]) -> Result<Int64?, BackupError> {
        guard let selectedBackupID else { return .success(nil) }
        guard let backup = accounts.first(where: { $0.id == selectedBackupID }) else { return .failure(.notYourAccount) }
        guard backup.id != primaryID else { return .failure(.sameAsPrimary) }
        guard backup.status == .active else { return .failure(.notActive(backup.status)) }
        return .success(backup.id)
    }

    public enum BackupError: Error, Equatable, CustomStringConvertible {
        case notYourAccount, sameAsPrimary, notActive(StorageAccountStatus)

        public var description: String {
            switch self {
            case .notYourAccount: return "Choose one of your own storage accounts as the backup."
            case .sameAsPrimary: return "The backup must be another account than the one files go to."
            case .notActive(let s): return "The chosen backup account is \(s.inWords); only an active account can be chosen."
            }
        }
    }

    public enum BindingError: Error, Equatable, CustomStringConvertible {
        case noAccountForProvider, noActiveAccount, notYourAccount, providerMismatch, notActive(StorageAccountStatus)

        public var description: String {
            switch self {
            case .noAccountForProvider: return "Connect a storage account of this kind first."
            case .noActiveAccount: return "None of your storage accounts of this kind is active; reactivate or reconnect one."
            case .notYourAccount: return "Choose one of your own storage accounts."
            case .providerMismatch: return "The chosen storage account is of another kind."
            case .notActive(let s): return "The chosen storage account is \(s.rawValue.lowercased()); only an active account can be chosen."
            }
        }
    }
}
