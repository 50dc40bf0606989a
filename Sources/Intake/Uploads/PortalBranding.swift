import Foundation

/// The owner's branding of a portal page, sanitised: an accent colour (`#rrggbb`) whose text
/// colour is computed so the two keep a contrast of at least 4.5:1 (WCAG AA), a logo that is a
/// PNG, JPEG or WebP by its bytes and small, and the welcome text read as plain paragraphs.
public enum PortalBranding {
    /// The accent colour as stored: `#rrggbb` in lower case, from `#RRGGBB`, `rrggbb` or `#rgb`;
    /// empty: nil (the default colour).
    public static func accentColor(_ raw: String) throws -> String? {
        var hex = raw.trimmingSpaces().lowercased()
        guard !hex.isEmpty else { return nil }
        if hex.hasPrefix("#") { hex.removeFirst() }
        guard hex.unicodeScalars.allSatisfy({ ("0"..."9").contains($0) || ("a"..."f").contains($0) }), hex.count == 6 || hex.count == 3 else {
            throw ValidationError("accent_color", "Give a colour as # and six hexadecimal digits, like #1a5fb4.")
        }
        if hex.count == 3 { hex = hex.map { "\($0)\($0)" }.joined() }
        return "#" + hex
    }

    /// The relative luminance of `#rrggbb` (WCAG 2).
    public static func luminance(_ color: String) -> Double {
        let hex = Array(color.dropFirst().utf8)
        func channel(_ i: Int) -> Double {
            let c = Double(UInt8(String(decoding: hex[(i * 2)..<(i * 2 + 2)], as: UTF8.self), radix: 16) ?? 0) / 255
            return c <= 0.04045 ? c / 12.92 : pow((c + 0.055) / 1.055, 2.4)
        }
        return 0.2126 * channel(0) + 0.7152 * channel(1) + 0.0722 * channel(2)
    }

    /// The contrast ratio of two colours, 1 to 21.
    public static func contrast(_ a: String, _ b: String) -> Double {
        let (x, y) = (luminance(a), luminance(b))
        return (max(x, y) + 0.05) / (min(x, y) + 0.05)
    }

    /// The text colour on an accent background: white or black, whichever contrasts more
    /// (for any background one of them reaches at least 4.58:1).
    public static func foreground(on accent: String) -> String {
        contrast(accent, "#ffffff") >= contrast(accent, "#000000") ? "#ffffff" : "#000000"
    }

    /// The accent colour as a text colour on white: the accent itself when it contrasts 4.5:1
    /// with white, else the accent darkened until it does (links and headings keep reading).
    public static func textColor(on accent: String) -> String {
        var rgb = (0..<3).map { i in Double(UInt8(String(Array(accent.dropFirst())[(i * 2)..<(i * 2 + 2)]), radix: 16) ?? 0) }
        func hex() -> String { "#" + rgb.map { v in let s = String(Int(v.rounded()), radix: 16); return s.count == 1 ? "0" + s : s }.joined() }
        while contrast(hex(), "#ffffff") < 4.5 { rgb = rgb.map { $0 * 0.9 } }
        return hex()
    }

    /// The largest logo, in bytes.
    public static let maxLogoBytes = 256 * 1024

    /// The longest text alternative of a logo.
    public static let maxLogoAltLength = 150

    /// The media type of a logo by its bytes (PNG, JPEG or WebP), or the reason it is refused.
    public static func logoType(_ bytes: [UInt8]) throws -> String {
        guard !bytes.isEmpty else { throw ValidationError("logo", "Choose an image file for the logo.") }
        guard bytes.count <= maxLogoBytes else {
            throw ValidationError("logo", "The logo is \(ByteSize(bytes: Int64(bytes.count))); use one of at most \(ByteSize(bytes: Int64(maxLogoBytes))).")
        }
        let head = Array(bytes.prefix(FileTypes.headLength))
        for (ext, type) in [("png", "image/png"), ("jpg", "image/jpeg"), ("webp", "image/webp")] where FileTypes.kind(extension: ext)?.matches(head) == true {
            return type
        }
        throw ValidationError("logo", "The logo must be a PNG, JPEG or WebP image; this file is not one.")
    }

    /// A piece of a welcome paragraph: text, or an https link (shown as its own address).
    public enum Piece: Sendable, Equatable {
        case text(String)
        case link(String)
    }

    /// The welcome text as paragraphs (split at blank lines; single line breaks kept as spaces),
    /// with `https://` addresses as links. Nothing else is markup: the template escapes every piece.
    public static func paragraphs(_ text: String) -> [[Piece]] {
        var blocks: [[String]] = [[]]
        for line in text.replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = String(line).trimmingSpaces()
            if trimmed.isEmpty { if !blocks[blocks.count - 1].isEmpty { blocks.append([]) } } else { blocks[blocks.count - 1].append(trimmed) }
        }
        return blocks.filter { !$0.isEmpty }.map { pieces($0.joined(separator: " ")) }
    }

    /// Text cut into text and links: a link starts at `https://` and runs to the next space,
    /// without trailing punctuation.
    static func pieces(_ text: String) -> [Piece] {
        var out: [Piece] = []
        var rest = Substring(text)
        while let start = rest.range(of: "https://") {
            var end = rest[start.lowerBound...].firstIndex(where: { $0 == " " || $0 == "<" || $0 == ">" || $0 == "\"" }) ?? rest.endIndex
            while end > start.upperBound, ".,;:!?)]'".contains(rest[rest.index(before: end)]) { end = rest.index(before: end) }
            if rest[start.lowerBound..<end].count <= "https://".count {
                out.append(.text(String(rest[..<start.upperBound])))
                rest = rest[start.upperBound...]
                continue
            }
            if start.lowerBound > rest.startIndex { out.append(.text(String(rest[..<start.lowerBound]))) }
            out.append(.link(String(rest[start.lowerBound..<end])))
            rest = rest[end...]
        }
        if !rest.isEmpty { out.append(.text(String(rest))) }
        // Neighbouring text pieces (from a bare "https://") read as one.
        return out.reduce(into: []) { merged, piece in
            if case .text(let b) = piece, case .text(let a)? = merged.last { merged[merged.count - 1] = .text(a + b) } else { merged.append(piece) }
        }
    }
}
