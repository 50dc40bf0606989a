import Sodium

/// A client's file name made safe to store, list and send back: a browser or script may send a
/// path (`../../etc/passwd`, `C:\Users\x\a.pdf`), control characters (CR/LF reach headers and
/// logs) or bidirectional overrides that make `exe.pdf` read as `fdp.exe`.
public enum ClientFileName {
    /// The longest name kept, in UTF-8 bytes (the limit of common file systems).
    public static let maxBytes = 255

    /// The last path component, without control, format-override or separator characters,
    /// trimmed, at most `maxBytes` with its extension kept; a generated name when nothing is left.
    public static func clean(_ raw: String) -> String {
        let last = raw.split(omittingEmptySubsequences: true) { $0 == "/" || $0 == "\\" }.last.map(String.init) ?? ""
        var name = String(String.UnicodeScalarView(last.unicodeScalars.filter(isKept)))
        name = name.trimmingSpaces()
        // "." and ".." name folders, and trailing dots or spaces vanish on some systems.
        while let end = name.last, end == "." || end == " " { name.removeLast() }
        if name.allSatisfy({ $0 == "." }) { name = "" }
        name = bounded(name)
        return name.isEmpty ? "upload-" + Digest.base64URL(Sodium.randomBytes(6)).lowercased() : name
    }

    /// Drops C0/C1 controls, DEL, the byte-order mark and the bidirectional marks and overrides.
    static func isKept(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x00...0x1F, 0x7F...0x9F: return false
        case 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069, 0x061C, 0xFEFF: return false
        default: return true
        }
    }

    /// At most `maxBytes`, cut from the stem so a short extension survives, on a character boundary.
    static func bounded(_ name: String) -> String {
        guard name.utf8.count > maxBytes else { return name }
        let dot = name.lastIndex(of: ".")
        let ext = dot.map { String(name[$0...]) } ?? ""
        var stem = dot.map { String(name[..<$0]) } ?? name
        let keep = ext.utf8.count <= 16 ? ext : ""
        if keep.isEmpty { stem = name }
        while stem.utf8.count + keep.utf8.count > maxBytes { stem.removeLast() }
        return stem + keep
    }
}
