import Intake

/// How the owner's pages name a file's delivery state.
enum FileStatusView {
    /// The files page's status filter: every state, by the owner's words.
    static let filterOptions: [(value: String, label: String)] =
        [("", "All files")] + FileUploadStatus.allCases.map { ($0.rawValue, filterLabel($0)) }

    static func filterLabel(_ status: FileUploadStatus) -> String {
        switch status {
        case .uploaded: return "Delivered"
        case .delivering: return "Being delivered"
        case .failed: return "Delivery failed"
        }
    }

    /// The mark beside a file in the list (nil: delivered, nothing to say).
    static func mark(_ status: FileUploadStatus?, retrying: Bool) -> String? {
        switch status {
        case .delivering?: return retrying ? "Delivery retrying" : "Being delivered"
        case .failed?: return "Delivery failed"
        case .uploaded?, nil: return nil
        }
    }
}
