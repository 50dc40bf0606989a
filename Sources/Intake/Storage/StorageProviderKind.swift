import Integrations

/// Where a storage account keeps files: the one vocabulary of providers. A cloud provider is
/// reached through an OAuth identity of the matching `OAuthProvider.Kind`; the two are mapped
/// here and nowhere else.
public enum StorageProviderKind: String, Sendable, CaseIterable, Codable {
    case googleDrive = "google_drive"
    case dropbox
    case local

    /// The OAuth identity provider behind it (nil for local disk).
    public var oauth: OAuthProvider.Kind? {
        switch self {
        case .googleDrive: return .google
        case .dropbox: return .dropbox
        case .local: return nil
        }
    }

    /// The storage an OAuth identity of `kind` gives access to.
    public init(_ kind: OAuthProvider.Kind) {
        switch kind {
        case .google: self = .googleDrive
        case .dropbox: self = .dropbox
        }
    }

    /// Its name for people: "Google Drive", "Dropbox", "Local disk".
    public var displayName: String {
        switch self {
        case .googleDrive: return "Google Drive"
        case .dropbox: return "Dropbox"
        case .local: return "Local disk"
        }
    }

    /// `google_drive`, `google`, `dropbox` or `local`: the storage a client or form names, by
    /// either vocabulary.
    public init?(named name: String) {
        if let kind = StorageProviderKind(rawValue: name) { self = kind } else if let kind = OAuthProvider.Kind(rawValue: name) { self.init(kind) } else { return nil }
    }
}
