/// A size in bytes as a person types and reads it: a number and a unit, decimal (MB, GB, TB) or
/// binary (MiB, GiB, TiB). Shown back in the unit it was entered in.
public struct ByteSize: Sendable, Hashable, CustomStringConvertible {
    public enum Unit: String, Sendable, CaseIterable {
        case MB, GB, TB, MiB, GiB, TiB
        public var bytes: Int64 {
            switch self {
            case .MB: return 1_000_000
            case .GB: return 1_000_000_000
            case .TB: return 1_000_000_000_000
            case .MiB: return 1 << 20
            case .GiB: return 1 << 30
            case .TiB: return 1 << 40
            }
        }
    }

    public let bytes: Int64

    public init(bytes: Int64) { self.bytes = bytes }

    /// Parses a number (decimals allowed) in `unit`; the result must be a whole number of bytes.
    public static func parse(_ number: String, unit rawUnit: String) throws -> ByteSize {
        guard let unit = Unit(rawValue: rawUnit.trimmingSpaces()) else {
            throw ValidationError("", "Choose a unit: \(formUnits.map(\.rawValue).joined(separator: ", ")).")
        }
        let digits = try DecimalText.parse(number, meaning: .size, maximumFractionDigits: 12, tooPrecise: "Use at most 12 decimals.")
        return ByteSize(bytes: try digits.times(unit.bytes))
    }

    /// The units forms offer: one system, decimal (1 GB = 1,000,000,000 bytes) as disks and the
    /// providers state sizes. `parse` still reads the binary units an API client may send.
    public static let formUnits: [Unit] = [.MB, .GB, .TB]

    /// The size as a form shows it back: the largest decimal unit it reaches (MB at least), the
    /// number exact to the byte (`1.5` GB, `62.91456` MB), so saving the form unchanged keeps it.
    public func display() -> (number: String, unit: Unit) {
        let unit: Unit = bytes >= Unit.TB.bytes ? .TB : bytes >= Unit.GB.bytes ? .GB : .MB
        if bytes == 0 { return ("0", .GB) }
        let whole = bytes / unit.bytes, rest = bytes % unit.bytes
        guard rest != 0 else { return (String(whole), unit) }
        let places = String(unit.bytes).utf8.count - 1
        let digits = String(rest)
        let fraction = (String(repeating: "0", count: places - digits.utf8.count) + digits).reversed().drop { $0 == "0" }.reversed()
        return ("\(whole).\(String(fraction))", unit)
    }

    /// The one way sizes read everywhere: decimal units (B, KB, MB, GB, TB), three significant
    /// digits at most (`62.5 KB`, `1.23 GB`, `750 MB`, `13 B`).
    public var description: String {
        let units: [(size: Int64, name: String)] = [(1_000_000_000_000, "TB"), (1_000_000_000, "GB"), (1_000_000, "MB"), (1_000, "KB")]
        guard bytes >= 1_000 else { return "\(bytes) B" }
        for (i, unit) in units.enumerated() where bytes >= unit.size {
            let places = bytes >= 100 * unit.size ? 0 : bytes >= 10 * unit.size ? 1 : 2
            let scale: Int64 = places == 0 ? 1 : places == 1 ? 10 : 100
            let step = unit.size / scale
            let rounded = bytes / step + (bytes % step >= step / 2 ? 1 : 0)
            if places == 0 && rounded >= 1_000 && i > 0 { return "1 \(units[i - 1].name)" }
            let whole = rounded / scale, rest = rounded % scale
            if rest == 0 { return "\(whole) \(unit.name)" }
            let text = places == 2 && rest < 10 ? "0\(rest)" : String(rest)
            return "\(whole).\(text.hasSuffix("0") ? String(text.dropLast()) : text) \(unit.name)"
        }
        return "\(bytes) B"
    }
}
