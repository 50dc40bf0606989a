import Intake

/// The seed's indicator of a storage account's state, on the storage page and beside each file:
/// green Connected, yellow Inactive, red Unavailable (DISCONNECTED), orange Unavailable (ERROR),
/// grey Legacy (no OAuth account behind it).
struct StorageStatusIndicator {
    let colour: String
    let label: String

    init(status: StorageAccountStatus, legacy: Bool) {
        if legacy { colour = "grey"; label = "Legacy"; return }
        switch status {
        case .active: colour = "green"; label = "Connected"
        case .inactive: colour = "yellow"; label = "Inactive"
        case .disconnected: colour = "red"; label = "Unavailable"
        case .error: colour = "orange"; label = "Unavailable"
        }
    }
}
