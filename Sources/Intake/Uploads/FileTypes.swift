/// File types a portal can allow, recognised by extension and checked against the file's first
/// bytes (its magic number), so a renamed executable is not taken for a PDF.
public enum FileTypes {
    public struct Kind: Sendable, Equatable {
        public let name: String
        public let extensions: [String]
        /// Byte signatures at offset 0 (any one matches); empty: text formats without one.
        public let magic: [[UInt8]]
        /// Whether the type needs no virus scan (inert formats).
        public let safe: Bool
    }

    public static let kinds: [Kind] = [
        Kind(name: "PDF", extensions: ["pdf"], magic: [Array("%PDF-".utf8)], safe: false),
        Kind(name: "PNG image", extensions: ["png"], magic: [[0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]], safe: true),
        Kind(name: "JPEG image", extensions: ["jpg", "jpeg"], magic: [[0xFF, 0xD8, 0xFF]], safe: true),
        Kind(name: "GIF image", extensions: ["gif"], magic: [Array("GIF87a".utf8), Array("GIF89a".utf8)], safe: true),
        Kind(name: "WebP image", extensions: ["webp"], magic: [Array("RIFF".utf8)], safe: true),
        Kind(name: "ZIP archive", extensions: ["zip"], magic: [[0x50, 0x4B, 0x03, 0x04], [0x50, 0x4B, 0x05, 0x06]], safe: false),
        Kind(name: "Word document", extensions: ["docx"], magic: [[0x50, 0x4B, 0x03, 0x04]], safe: false),
        Kind(name: "Excel workbook", extensions: ["xlsx"], magic: [[0x50, 0x4B, 0x03, 0x04]], safe: false),
        Kind(name: "PowerPoint presentation", extensions: ["pptx"], magic: [[0x50, 0x4B, 0x03, 0x04]], safe: false),
        Kind(name: "Text", extensions: ["txt", "csv", "md"], magic: [], safe: false),
    ]

    /// The extension of a file name, lower-cased (`Report.PDF` → `pdf`).
    public static func fileExtension(_ fileName: String) -> String? {
        guard let dot = fileName.lastIndex(of: "."), dot != fileName.startIndex else { return nil }
        let ext = fileName[fileName.index(after: dot)...].lowercased()
        return ext.isEmpty ? nil : ext
    }

    public enum Check: Sendable, Equatable {
        case accepted(Kind)
        /// Refused, with the message for the client.
        case refused(String)
    }

    /// The check by name alone, before any byte has arrived (a resumable upload's creation).
    public static func check(fileName: String, allowedExtensions: Set<String>) -> Check {
        guard let ext = fileExtension(fileName) else { return .refused("“\(fileName)” has no file extension, so its type is unknown.") }
        guard allowedExtensions.isEmpty || allowedExtensions.contains(ext) else {
            return .refused(".\(ext) files are not accepted here. Accepted: \(allowedExtensions.sorted().map { "." + $0 }.joined(separator: ", ")).")
        }
        guard let kind = kinds.first(where: { $0.extensions.contains(ext) }) else {
            return .refused(".\(ext) files are not accepted.")
        }
        return .accepted(kind)
    }

    /// Whether a file of this name and first bytes is allowed by `allowedExtensions` (empty: every
    /// known kind). A known extension must match its signature; text must not look binary.
    public static func check(fileName: String, head: [UInt8], allowedExtensions: Set<String>) -> Check {
        let named = check(fileName: fileName, allowedExtensions: allowedExtensions)
        guard case .accepted(let kind) = named else { return named }
        if kind.magic.isEmpty {
            // Text: no NUL bytes in what we have seen.
            return head.contains(0) ? .refused("“\(fileName)” is not a text file.") : .accepted(kind)
        }
        guard kind.magic.contains(where: { head.starts(with: $0) }) else {
            return .refused("“\(fileName)” is not really a \(kind.name) file.")
        }
        return .accepted(kind)
    }
}
