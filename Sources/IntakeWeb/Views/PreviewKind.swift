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

    /// The kind a file's name or recorded type says it is, if one of these.
    static func candidate(fileName: String, contentType: String?) -> PreviewKind? {
        let ext = fileName.split(separator: ".").last.map { $0.lowercased() } ?? ""
        switch ext {
        case "png": return .png
        case "jpg", "jpeg": return .jpeg
        case "gif": return .gif
        case "webp": return .webp
        case "pdf": return .pdf
        default: return allCases.first { contentType?.lowercased().hasPrefix($0.mediaType) == true }
        }
    }

    /// How many first bytes `recognise` needs.
    static let headLength = 12

    /// The kind whose signature `head` starts with.
    static func recognise(_ head: [UInt8]) -> PreviewKind? {
        func starts(_ bytes: [UInt8], at offset: Int = 0) -> Bool {
            head.count >= offset + bytes.count && Array(head[offset..<(offset + bytes.count)]) == bytes
        }
        if starts([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        if starts([0xFF, 0xD8, 0xFF]) { return .jpeg }
        if starts(Array("GIF87a".utf8)) || starts(Array("GIF89a".utf8)) { return .gif }
        if starts(Array("RIFF".utf8)) && starts(Array("WEBP".utf8), at: 8) { return .webp }
        if starts(Array("%PDF-".utf8)) { return .pdf }
        return nil
    }
}
