import CQREncode
import Templates

/// A QR code symbol made by Debian's libqrencode: its modules, and the SVG pages draw it as.
public struct QRCode: Sendable, Equatable {
    /// How much of the symbol may be damaged and still be read (ISO/IEC 18004 §7.5.1).
    public enum Correction: Sendable {
        /// About 7 % (the smallest symbol).
        case low
        /// About 15 %: what a screen photographed by a phone needs.
        case medium
        /// About 25 %.
        case quartile
        /// About 30 %.
        case high

        var level: QRecLevel {
            switch self {
            case .low: QR_ECLEVEL_L
            case .medium: QR_ECLEVEL_M
            case .quartile: QR_ECLEVEL_Q
            case .high: QR_ECLEVEL_H
            }
        }
    }

    /// Why a text could not be encoded.
    public struct EncodingError: Error, Equatable, CustomStringConvertible {
        public let description: String
    }

    /// Modules per side (21 for version 1, 4 more per version).
    public let width: Int
    /// Row after row, `true` for a dark module.
    public let modules: [Bool]

    /// The smallest symbol holding `text` (UTF-8, in the modes libqrencode picks, case kept).
    public init(encoding text: String, correction: Correction = .medium) throws {
        guard !text.isEmpty, !text.utf8.contains(0) else { throw EncodingError(description: "QR codes here hold a non-empty text without NUL") }
        // QRcode_encodeString(string, version 0 = the smallest that fits, level, hint, casesensitive):
        // NULL with errno set (ERANGE: too long; EINVAL, ENOMEM) when it cannot.
        guard let code = QRcode_encodeString(text, 0, correction.level, QR_MODE_8, 1) else {
            throw EncodingError(description: "the text does not fit in a QR code (\(text.utf8.count) bytes)")
        }
        defer { QRcode_free(code) }
        let width = Int(code.pointee.width)
        var modules = [Bool](repeating: false, count: width * width)
        for y in 0..<width {
            for x in 0..<width where cqrencode_is_dark(code, Int32(x), Int32(y)) != 0 {
                modules[y * width + x] = true
            }
        }
        self.width = width
        self.modules = modules
    }

    /// Whether the module at column `x`, row `y` is dark.
    public func isDark(x: Int, y: Int) -> Bool { modules[y * width + x] }

    /// The symbol as inline SVG: one path of unit squares (runs of dark modules in a row as one
    /// rectangle), the four-module quiet zone the standard asks for (§6.3.8) on a white ground,
    /// scaled by the viewer (`viewBox`, crisp edges), named by `label` for assistive technology
    /// (`role="img"`, `<title>`). `label` is escaped here.
    public func svg(label: String, pixels: Int = 192) -> String {
        let quiet = 4, side = width + 2 * quiet
        var path = ""
        for y in 0..<width {
            var x = 0
            while x < width {
                guard isDark(x: x, y: y) else { x += 1; continue }
                let start = x
                while x < width && isDark(x: x, y: y) { x += 1 }
                path += "M\(start + quiet) \(y + quiet)h\(x - start)v1h-\(x - start)z"
            }
        }
        let name = Self.escape(label)
        return """
            <svg xmlns="http://www.w3.org/2000/svg" class="qr" viewBox="0 0 \(side) \(side)" width="\(pixels)" height="\(pixels)" \
            role="img" aria-label="\(name)" shape-rendering="crispEdges"><title>\(name)</title>\
            <rect width="\(side)" height="\(side)" fill="#fff"/><path fill="#000" d="\(path)"/></svg>
            """
    }

    /// Text for XML character data and attribute values.
    static func escape(_ text: String) -> String { HTMLEscape.escape(text) }
}
