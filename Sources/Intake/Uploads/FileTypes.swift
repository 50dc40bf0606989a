/// File types: the families an owner may narrow a portal to, the formats Intake recognises by
/// their first bytes, and the check of a file against a portal's choice. A portal that narrows
/// nothing takes every file, whatever its name or content (safety comes from storing and serving
/// every file inertly and scanning it, not from refusing types). A narrowed portal takes a file
/// whose name it allows and whose content does not contradict that: a renamed program is refused
/// as a `.pdf`, a PNG named `.jpg` is taken where images are.
public enum FileTypes {
    /// The families of types an owner can choose in words.
    public enum Family: String, Sendable, CaseIterable, Comparable {
        case documents, images, video, audio, archives

        /// How the portal page and the form name it.
        public var label: String {
            switch self {
            case .documents: "Documents"
            case .images: "Images"
            case .video: "Video"
            case .audio: "Audio"
            case .archives: "Archives"
            }
        }

        /// A few examples for the form's hint.
        public var examples: String { extensions.prefix(6).map { "." + $0 }.joined(separator: ", ") }

        /// Every extension of the family, in the order of `kinds`.
        public var extensions: [String] { kinds.filter { $0.family == self }.flatMap(\.extensions) }

        public static func < (a: Family, b: Family) -> Bool { allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)! }
    }

    /// Bytes at an offset from the start of a file.
    public struct Mark: Sendable, Equatable {
        public let offset: Int
        public let bytes: [UInt8]

        init(_ offset: Int, _ bytes: [UInt8]) {
            self.offset = offset
            self.bytes = bytes
        }

        init(_ offset: Int, _ text: String) { self.init(offset, Array(text.utf8)) }

        func found(in head: [UInt8]) -> Bool {
            head.count >= offset + bytes.count && head[offset..<(offset + bytes.count)].elementsEqual(bytes)
        }
    }

    /// A format: its name for messages, its family (nil: in none, such as programs), its
    /// extensions, and its signatures — each a list of marks that must all be found; any one
    /// signature identifies it. No signature: a format that has none (text, some archives).
    public struct Kind: Sendable, Equatable {
        public let name: String
        public let family: Family?
        public let extensions: [String]
        public let signatures: [[Mark]]
        /// Text formats: a NUL byte in the first bytes says the content is not text.
        public let text: Bool
        /// A compiled program: refused under any name a portal narrowed to something else takes.
        public let program: Bool

        init(_ name: String, _ family: Family?, _ extensions: [String], _ signatures: [[Mark]] = [], text: Bool = false, program: Bool = false) {
            self.name = name
            self.family = family
            self.extensions = extensions
            self.signatures = signatures
            self.text = text
            self.program = program
        }

        /// Whether the first bytes of a file carry one of this format's signatures.
        public func matches(_ head: [UInt8]) -> Bool { signatures.contains { $0.allSatisfy { $0.found(in: head) } } }
    }

    /// How many first bytes the check reads (a tar header's `ustar` sits at 257).
    public static let headLength = 264

    private static func at0(_ text: String) -> [Mark] { [Mark(0, text)] }
    private static func at0(_ bytes: [UInt8]) -> [Mark] { [Mark(0, bytes)] }
    private static let zip: [[Mark]] = [at0([0x50, 0x4B, 0x03, 0x04]), at0([0x50, 0x4B, 0x05, 0x06])]
    private static let ole: [[Mark]] = [at0([0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1])]
    private static let asf: [[Mark]] = [at0([0x30, 0x26, 0xB2, 0x75, 0x8E, 0x66, 0xCF, 0x11])]
    private static let isoMedia: [[Mark]] = [[Mark(4, "ftyp")]]

    /// The formats Intake recognises, by family. Order matters only for which name a message uses
    /// when several share a signature (ZIP-based documents, ISO media).
    public static let kinds: [Kind] = [
        Kind("PDF", .documents, ["pdf"], [at0("%PDF-")]),
        Kind("Word document", .documents, ["docx", "docm", "dotx"], zip),
        Kind("Excel workbook", .documents, ["xlsx", "xlsm"], zip),
        Kind("PowerPoint presentation", .documents, ["pptx"], zip),
        Kind("OpenDocument file", .documents, ["odt", "ods", "odp"], zip),
        Kind("Apple iWork file", .documents, ["pages", "numbers", "key"], zip),
        Kind("EPUB book", .documents, ["epub"], zip),
        Kind("Office 97 file", .documents, ["doc", "xls", "ppt"], ole),
        Kind("Rich Text document", .documents, ["rtf"], [at0("{\\rtf")]),
        Kind("Text", .documents, ["txt", "csv", "tsv", "md", "json", "xml"], text: true),
        Kind("PNG image", .images, ["png"], [at0([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])]),
        Kind("JPEG image", .images, ["jpg", "jpeg"], [at0([0xFF, 0xD8, 0xFF])]),
        Kind("GIF image", .images, ["gif"], [at0("GIF87a"), at0("GIF89a")]),
        Kind("WebP image", .images, ["webp"], [[Mark(0, "RIFF"), Mark(8, "WEBP")]]),
        Kind("BMP image", .images, ["bmp"], [at0("BM")]),
        Kind("TIFF image", .images, ["tif", "tiff"], [at0([0x49, 0x49, 0x2A, 0x00]), at0([0x4D, 0x4D, 0x00, 0x2A])]),
        Kind("HEIC image", .images, ["heic", "heif"], ["heic", "heix", "mif1", "msf1", "hevc"].map { [Mark(4, "ftyp" + $0)] }),
        Kind("AVIF image", .images, ["avif"], [[Mark(4, "ftypavif")], [Mark(4, "ftypavis")]]),
        Kind("Photoshop image", .images, ["psd"], [at0("8BPS")]),
        Kind("Icon", .images, ["ico"], [at0([0x00, 0x00, 0x01, 0x00])]),
        Kind("SVG image", .images, ["svg"], text: true),
        Kind("MP4 video", .video, ["mp4", "m4v", "3gp"], isoMedia),
        Kind("QuickTime video", .video, ["mov"], isoMedia + ["moov", "mdat", "wide", "free"].map { [Mark(4, $0)] }),
        Kind("Matroska video", .video, ["mkv", "webm"], [at0([0x1A, 0x45, 0xDF, 0xA3])]),
        Kind("AVI video", .video, ["avi"], [[Mark(0, "RIFF"), Mark(8, "AVI ")]]),
        Kind("Windows Media video", .video, ["wmv"], asf),
        Kind("MPEG video", .video, ["mpg", "mpeg"], [at0([0x00, 0x00, 0x01, 0xBA]), at0([0x00, 0x00, 0x01, 0xB3])]),
        Kind("Flash video", .video, ["flv"], [at0("FLV")]),
        Kind("MP3 audio", .audio, ["mp3"], [at0("ID3"), at0([0xFF, 0xFB]), at0([0xFF, 0xF3]), at0([0xFF, 0xF2])]),
        Kind("AAC audio", .audio, ["aac"], [at0([0xFF, 0xF1]), at0([0xFF, 0xF9])]),
        Kind("M4A audio", .audio, ["m4a"], isoMedia),
        Kind("WAV audio", .audio, ["wav"], [[Mark(0, "RIFF"), Mark(8, "WAVE")]]),
        Kind("FLAC audio", .audio, ["flac"], [at0("fLaC")]),
        Kind("Ogg audio", .audio, ["ogg", "oga", "opus"], [at0("OggS")]),
        Kind("AIFF audio", .audio, ["aif", "aiff"], [[Mark(0, "FORM"), Mark(8, "AIFF")]]),
        Kind("Windows Media audio", .audio, ["wma"], asf),
        Kind("ZIP archive", .archives, ["zip"], zip),
        Kind("7-Zip archive", .archives, ["7z"], [at0([0x37, 0x7A, 0xBC, 0xAF, 0x27, 0x1C])]),
        Kind("RAR archive", .archives, ["rar"], [at0([0x52, 0x61, 0x72, 0x21, 0x1A, 0x07])]),
        Kind("gzip archive", .archives, ["gz", "tgz"], [at0([0x1F, 0x8B])]),
        Kind("bzip2 archive", .archives, ["bz2"], [at0("BZh")]),
        Kind("xz archive", .archives, ["xz"], [at0([0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00])]),
        Kind("Zstandard archive", .archives, ["zst"], [at0([0x28, 0xB5, 0x2F, 0xFD])]),
        Kind("tar archive", .archives, ["tar"], [[Mark(257, "ustar")]]),
        // Programs belong to no family: a narrowed portal takes one only by its extension.
        Kind("Windows program", nil, ["exe", "dll", "scr", "com"], [at0("MZ")], program: true),
        Kind("Linux program", nil, ["so", "elf"], [at0([0x7F, 0x45, 0x4C, 0x46])], program: true),
        Kind("macOS program", nil, ["dylib", "macho"],
             [[0xFE, 0xED, 0xFA, 0xCE], [0xFE, 0xED, 0xFA, 0xCF], [0xCE, 0xFA, 0xED, 0xFE], [0xCF, 0xFA, 0xED, 0xFE], [0xCA, 0xFE, 0xBA, 0xBE]].map { at0($0) },
             program: true),
        Kind("script", nil, ["sh"], [at0("#!")]),
    ]

    /// The extension of a file name, lower-cased (`Report.PDF` → `pdf`); nil for names without
    /// one (`README`, `.profile`).
    public static func fileExtension(_ fileName: String) -> String? {
        guard let dot = fileName.lastIndex(of: "."), dot != fileName.startIndex else { return nil }
        let ext = fileName[fileName.index(after: dot)...].lowercased()
        return ext.isEmpty ? nil : ext
    }

    /// The format an extension names, if Intake knows it.
    public static func kind(extension ext: String) -> Kind? { kinds.first { $0.extensions.contains(ext) } }

    /// What a portal takes: chosen families and extensions; neither: every file.
    public struct Accepted: Sendable, Equatable {
        public var families: Set<Family>
        public var extensions: Set<String>

        public init(families: Set<Family> = [], extensions: Set<String> = []) {
            self.families = families
            self.extensions = extensions
        }

        /// No narrowing: any file, with any name.
        public static let anything = Accepted()

        public var isAnything: Bool { families.isEmpty && extensions.isEmpty }

        /// Every extension taken, sorted (the chosen families' and the free list's).
        public var allExtensions: [String] {
            Set(families.flatMap(\.extensions)).union(extensions).sorted()
        }

        /// Whether a format is one the portal takes: its family is chosen, or one of its extensions.
        public func takes(_ kind: Kind) -> Bool {
            kind.family.map(families.contains) == true || kind.extensions.contains(where: extensions.contains)
        }

        /// What the portal takes, in words: "documents, images and .dwg files"; nil for anything.
        public var description: String? {
            guard !isAnything else { return nil }
            let parts = families.sorted().map { $0.label.lowercased() }
                + (extensions.isEmpty ? [] : [extensions.sorted().map { "." + $0 }.joined(separator: ", ") + " files"])
            return parts.count == 1 ? parts[0] : parts.dropLast().joined(separator: ", ") + " and " + parts.last!
        }
    }

    public enum Check: Sendable, Equatable {
        /// Taken; with the format recognised, when one was.
        case accepted(Kind?)
        /// Refused, with the message for the client.
        case refused(String)
    }

    /// The check by name alone, before any byte has arrived (a resumable upload's creation, and
    /// the first step of the full check).
    public static func check(fileName: String, accepted: Accepted) -> Check {
        let ext = fileExtension(fileName)
        guard !accepted.isAnything else { return .accepted(ext.flatMap { kind(extension: $0) }) }
        let list = accepted.description ?? ""
        guard let ext else { return .refused("“\(fileName)” has no file extension, so it cannot be told to be one of the types this portal accepts (\(list)).") }
        guard accepted.allExtensions.contains(ext) else {
            return .refused("“\(fileName)”: .\(ext) files are not accepted here. This portal accepts \(list).")
        }
        return .accepted(kind(extension: ext))
    }

    /// The full check of a file by its name and first bytes. A portal that narrows nothing takes
    /// it. Otherwise its name must be allowed, and its content must not say otherwise: content
    /// that carries the named format's signature is that format; content that carries another
    /// format's is taken only when the portal takes that format too; content with no known
    /// signature is refused where the named format always has one, and text must hold no NUL.
    public static func check(fileName: String, head: [UInt8], accepted: Accepted) -> Check {
        let named = check(fileName: fileName, accepted: accepted)
        guard case .accepted(let kind) = named, !accepted.isAnything else { return named }
        if let kind, kind.matches(head) { return named }
        // Text has no signature, and a short one (`BM`, `MZ`) can begin a sentence: text is
        // judged by its lack of NUL bytes alone.
        if let kind, kind.text {
            return head.contains(0) ? .refused("“\(fileName)” is not a text file, though its name says so.") : named
        }
        let found = kinds.filter { !$0.signatures.isEmpty && $0.matches(head) }
        if let taken = found.first(where: accepted.takes) { return .accepted(taken) }
        // An extension the owner typed that Intake has no format for (jar, msg, py, dng): its
        // content may well carry a container's signature (zip, OLE, TIFF, #!); only a compiled
        // program under that name is refused.
        if kind == nil, let program = found.first(where: \.program) {
            return .refused("“\(fileName)” is really \(article(program.name)), which this portal does not accept (it accepts \(accepted.description ?? "")).")
        }
        if kind == nil { return named }
        if let other = found.first {
            return .refused("“\(fileName)” is really \(article(other.name)), which this portal does not accept (it accepts \(accepted.description ?? "")).")
        }
        guard let kind else { return named }
        return kind.signatures.isEmpty ? named : .refused("“\(fileName)” is not really \(article(kind.name)) file: its content says otherwise.")
    }

    private static func article(_ name: String) -> String {
        (["A", "E", "I", "O", "U"].contains { name.uppercased().hasPrefix($0) } ? "an " : "a ") + name
    }
}
