/// A recorded file's delivery state (`file_uploads.status`). A file is recorded once it has
/// arrived whole, passed the type check and the scan, and been bound to its storage account; from
/// then on only delivery can change, by `FileUploadLifecycle.next`.
public enum FileUploadStatus: String, Sendable, CaseIterable {
    /// Waiting in its spool for the provider (the first attempt is made by the request itself).
    case delivering
    /// Stored at the provider; its spool is gone.
    case uploaded
    /// Delivery gave up; the bytes are kept for the owner's retry until the retention ends.
    case failed

    /// What a client reads on its receipt, and whether it can still change.
    public var receiptText: (text: String, final: Bool) {
        switch self {
        case .uploaded: return ("delivered", true)
        case .delivering: return ("received, being delivered to the owner's storage", false)
        case .failed: return ("received; it could not be stored yet, and the owner has been told", true)
        }
    }

    /// The status as an SQL literal, for queries that must name it in their text (a partial
    /// index is used only when the query's own WHERE says its condition). A constant of ours,
    /// never user input.
    public var sql: String { "'\(rawValue)'" }

    /// The SQL list of every status, for the schema's CHECK.
    public static var sqlList: String { allCases.map(\.sql).joined(separator: ", ") }
}

/// What happens to a recorded file.
public enum FileUploadEvent: Sendable, CaseIterable {
    /// The provider took it and its checksum matched.
    case providerStored
    /// An attempt failed and may be tried again within the delivery window.
    case attemptFailed
    /// An attempt failed for good, or the window is over.
    case gaveUp
    /// The owner puts a failed delivery back in line ("Retry delivery").
    case ownerRetries
    /// The provider refused it for good on the request's own first attempt: the client is told
    /// and nothing is kept.
    case refusedOnArrival
    /// A failed delivery's bytes are past their retention.
    case retentionEnded
    /// The owner deletes it (not while someone delivers it).
    case ownerDeletes
}

/// The recorded file's state machine, as a pure table: the seed's rule that a file stays bound
/// to its account is the database's; which delivery state follows which is this.
public enum FileUploadLifecycle {
    public enum Outcome: Sendable, Equatable {
        case to(FileUploadStatus)
        /// The record goes (its usage with it).
        case removed
    }

    /// An event the state does not allow.
    public struct Refused: Error, Equatable, CustomStringConvertible {
        public let from: FileUploadStatus
        public let event: FileUploadEvent
        public var description: String { "a \(from.rawValue) file cannot take \(event)" }
    }

    public static func next(_ from: FileUploadStatus, _ event: FileUploadEvent) throws -> Outcome {
        switch (from, event) {
        case (.delivering, .providerStored): return .to(.uploaded)
        case (.delivering, .attemptFailed): return .to(.delivering)
        case (.delivering, .gaveUp): return .to(.failed)
        case (.delivering, .refusedOnArrival): return .removed
        case (.failed, .ownerRetries): return .to(.delivering)
        case (.failed, .retentionEnded): return .removed
        case (_, .ownerDeletes): return .removed
        default: throw Refused(from: from, event: event)
        }
    }
}
