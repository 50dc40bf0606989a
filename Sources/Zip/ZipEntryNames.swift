/// Names for a zip's entries that are all different, as a case-insensitive file system (macOS,
/// Windows) tells them apart: the second “report.pdf” becomes “report (2).pdf”.
public struct ZipEntryNames {
    private var taken: Set<String> = []

    public init() {}

    /// `name`, or the first “name (n).ext” not given yet.
    public mutating func unique(_ name: String) -> String {
        if taken.insert(name.lowercased()).inserted { return name }
        let dot = name.lastIndex(of: ".").flatMap { $0 == name.startIndex ? nil : $0 }
        let stem = dot.map { String(name[..<$0]) } ?? name
        let ext = dot.map { String(name[$0...]) } ?? ""
        var n = 2
        while true {
            let candidate = "\(stem) (\(n))\(ext)"
            if taken.insert(candidate.lowercased()).inserted { return candidate }
            n += 1
        }
    }
}
