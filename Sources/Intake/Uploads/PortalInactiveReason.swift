/// Why the system (not its owner) switched a portal off (`portals.inactive_reason`): its storage
/// account left ACTIVE. Only portals switched off so come back on when the account recovers.
public enum PortalInactiveReason: String, Sendable, CaseIterable {
    case storageInactive = "storage_inactive"
    case storageDisconnected = "storage_disconnected"
    case storageError = "storage_error"

    /// The reason a portal is switched off when its account moves to `status`; nil for ACTIVE.
    public init?(accountStatus status: StorageAccountStatus) {
        switch status {
        case .active: return nil
        case .inactive: self = .storageInactive
        case .disconnected: self = .storageDisconnected
        case .error: self = .storageError
        }
    }

    /// What the owner is told.
    public var ownerMessage: String {
        switch self {
        case .storageDisconnected: return "Switched off because its storage account was disconnected; reconnect it on the Storage page."
        case .storageError: return "Switched off because its storage account has an error; it comes back when the account works again."
        case .storageInactive: return "Switched off because its storage account was switched off; reactivate it on the Storage page."
        }
    }
}
