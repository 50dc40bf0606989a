import Intake

/// The seed's indicator of a storage account's state, on the storage page and beside each file:
/// green Connected, yellow Paused (INACTIVE), red Disconnected, orange Not reachable (ERROR),
/// grey Legacy (no OAuth account behind it).
struct StorageStatusIndicator {
    let colour: String
    let label: String

    init(status: StorageAccountStatus, legacy: Bool) {
        if legacy { colour = "grey"; label = "Legacy"; return }
        switch status {
        case .active: colour = "green"; label = "Connected"
        case .inactive: colour = "yellow"; label = "Paused"
        case .disconnected: colour = "red"; label = "Disconnected"
        case .error: colour = "orange"; label = "Not reachable"
        }
    }
}
