/// Where a resumable (tus) upload stands (`tus_uploads.status`), until its file is recorded; from
/// then on the file's own delivery status is the upload's (`FileUploadStatus`).
public enum TusUploadStatus: String, Sendable, CaseIterable {
    /// Chunks are arriving.
    case receiving
    /// Every byte has arrived; the rest of the pipeline has not finished (or waits for the scanner).
    case received
    /// Being scanned.
    case scanning
    /// Being recorded and handed to delivery.
    case delivering
    /// Recorded, and stored at once by the request.
    case uploaded
    /// Refused for good (type, malware, a storage that refuses); the row stays to say why.
    case rejected

    /// Statuses in which chunks may still be written or the completion retried.
    public var isOpen: Bool { self == .receiving || self == .received || self == .scanning }

    /// The status as an SQL literal, for queries that must name it in their text (a partial
    /// index is used only when the query's own WHERE says its condition). A constant of ours,
    /// never user input.
    public var sql: String { "'\(rawValue)'" }

    /// The SQL list of every status, for the schema's CHECK.
    public static var sqlList: String { allCases.map(\.sql).joined(separator: ", ") }
}

public enum TusUploadEvent: Sendable, Equatable, CaseIterable {
    /// The last byte arrived (or the completion is tried again).
    case complete
    case scanStarts
    case deliveryStarts
    /// The file was recorded; the request's first attempt stored it.
    case recordedAndStored
    /// The file was recorded and waits for delivery.
    case recordedForDelivery
    /// The scanner is down: everything is kept, to be tried again.
    case scannerDown
    /// The pipeline refused the file for good.
    case refused
}

/// The tus upload's state machine as a pure table.
public enum TusUploadLifecycle {
    public struct Refused: Error, Equatable, CustomStringConvertible {
        public let from: TusUploadStatus
        public let event: TusUploadEvent
        public var description: String { "a \(from.rawValue) upload cannot take \(event)" }
    }

    public static func next(_ from: TusUploadStatus, _ event: TusUploadEvent) throws -> TusUploadStatus {
        switch (from, event) {
        case (.receiving, .complete), (.received, .complete), (.scanning, .complete): return .received
        case (.received, .scanStarts): return .scanning
        case (.received, .deliveryStarts), (.scanning, .deliveryStarts): return .delivering
        case (.delivering, .recordedAndStored): return .uploaded
        case (.delivering, .recordedForDelivery): return .delivering
        case (.received, .scannerDown), (.scanning, .scannerDown): return .received
        case (.received, .refused), (.scanning, .refused), (.delivering, .refused): return .rejected
        default: throw Refused(from: from, event: event)
        }
    }
}
