/// Limits that keep a hostile multipart body from growing the worker's memory.
public struct MultipartLimits: Sendable {
    /// The most bytes in one part's header block.
    public var maxHeaderBytes: Int
    /// The most parts in one body.
    public var maxParts: Int
    /// The most bytes in the body of a part that is not a file (no `filename`).
    public var maxFieldBytes: Int
    /// The most header lines in one part (a browser sends two or three).
    public var maxHeaderLines: Int

    /// Limits with working defaults.
    public init(maxHeaderBytes: Int = 16 * 1024, maxParts: Int = 1000, maxFieldBytes: Int = 1024 * 1024, maxHeaderLines: Int = 32) {
        self.maxHeaderBytes = maxHeaderBytes
        self.maxParts = maxParts
        self.maxFieldBytes = maxFieldBytes
        self.maxHeaderLines = maxHeaderLines
    }

    public static let `default` = MultipartLimits()
}

/// A malformed or over-limit multipart body; the message names what was wrong and the byte
/// offset in the body where it was found.
public struct MultipartError: HTTPResponseError, Equatable, CustomStringConvertible {
    /// What went wrong.
    public let reason: String
    /// The byte offset in the body.
    public let offset: Int64
    /// 400 for malformed input, 413 for a limit.
    public let status: HTTPStatus

    public var code: String { status == .payloadTooLarge ? "payload_too_large" : "malformed_multipart" }
    public var publicMessage: String { "Malformed multipart body: \(reason) (at byte \(offset))." }
    public var description: String { publicMessage }

    init(_ reason: String, at offset: Int64, status: HTTPStatus = .badRequest) {
        self.reason = reason
        self.offset = offset
        self.status = status
    }
}
