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
            throw ValidationError("", "Choose a unit: \(Unit.allCases.map(\.rawValue).joined(separator: ", ")).")
        }
        let digits = try DecimalText.parse(number, maximumFractionDigits: 12, tooPrecise: "Use at most 12 decimals.")
        return ByteSize(bytes: try digits.times(unit.bytes))
    }

    /// The largest unit that shows this size without a fraction (so `1.5 GB` comes back as
    /// `1500 MB` only if it has to), preferring the family — decimal or binary — given.
    public func display(preferBinary: Bool = false) -> (number: String, unit: Unit) {
        let order: [Unit] = preferBinary ? [.TiB, .GiB, .MiB, .TB, .GB, .MB] : [.TB, .GB, .MB, .TiB, .GiB, .MiB]
        for unit in order where bytes % unit.bytes == 0 && bytes >= unit.bytes {
            return (String(bytes / unit.bytes), unit)
        }
        if bytes == 0 { return ("0", preferBinary ? .GiB : .GB) }
        // Not a whole number of any unit: the decimal form in MB, exact to the byte.
        let whole = bytes / 1_000_000
        let rest = String(bytes % 1_000_000)
        let fraction = (String(repeating: "0", count: 6 - rest.count) + rest).reversed().drop { $0 == "0" }.reversed()
        return ("\(whole).\(String(fraction))", .MB)
    }

    /// Text for tables: the exact unit when there is one (`3 GiB`, `750 MB`), else at most two
    /// decimals of the largest decimal unit (`1.23 GB`).
    public var description: String {
        if bytes < 1_000_000 { return bytes == 0 ? "0 B" : "\(bytes) B" }
        let exact = display()
        if !exact.number.contains(".") && (exact.unit != .MB || bytes < 1_000_000_000) { return "\(exact.number) \(exact.unit.rawValue)" }
        let units: [(Int64, String)] = [(1_000_000_000_000, "TB"), (1_000_000_000, "GB"), (1_000_000, "MB")]
        for (size, name) in units where bytes >= size {
            let hundredths = bytes / (size / 100)
            let whole = hundredths / 100
            let frac = hundredths % 100
            if frac == 0 { return "\(whole) \(name)" }
            return frac % 10 == 0 ? "\(whole).\(frac / 10) \(name)" : "\(whole).\(frac < 10 ? "0" : "")\(frac) \(name)"
        }
        return "\(bytes) B"
    }
}
