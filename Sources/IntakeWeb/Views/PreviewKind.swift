import Intake

/// The files the browser may show as a preview: images of the four web formats and PDF. A file
/// is a candidate by its name or its recorded type (both the client's claim), and is shown only
/// when its first bytes are that format's signature; anything else downloads as an attachment.
enum PreviewKind: String, CaseIterable {
    case png, jpeg, gif, webp, pdf

    /// The type the preview is served as (never the client's claim).
    var mediaType: String {
        switch self {
        case .png: "image/png"
        case .jpeg: "image/jpeg"
        case .gif: "image/gif"
        case .webp: "image/webp"
        case .pdf: "application/pdf"
        }
    }

    var isImage: Bool { self != .pdf }

    /// Its format in `FileTypes`, the one list of names and signatures.
    var format: FileTypes.Kind { FileTypes.kind(extension: self == .jpeg ? "jpg" : rawValue)! }

    /// The kind a file's name or recorded type says it is, if one of these.
    static func candidate(fileName: String, contentType: String?) -> PreviewKind? {
        if let ext = FileTypes.fileExtension(fileName), let named = allCases.first(where: { $0.format.extensions.contains(ext) }) {
            return named
        }
        return allCases.first { contentType?.lowercased().hasPrefix($0.mediaType) == true }
    }

    /// How many first bytes `recognise` needs.
    static let headLength = 12

    /// The kind whose signature `head` carries.
    static func recognise(_ head: [UInt8]) -> PreviewKind? {
        allCases.first { $0.format.matches(head) }
    }
}
