/// A whole number typed into a form.
public enum WholeNumber {
    public static func parse(_ raw: String?, in range: ClosedRange<Int>) throws -> Int {
        let text = (raw ?? "").trimmingSpaces()
        let isDigit = { (b: UInt8) in (48...57).contains(b) }
        let bounds = "Enter a number from \(range.lowerBound) to \(range.upperBound)."
        guard !text.isEmpty else { throw ValidationError("", "Enter a number.") }
        if text.utf8.allSatisfy(isDigit) {
            // Digits only: a number, perhaps out of range (or beyond 64 bits: too large all the same).
            guard let n = Int(text), n <= range.upperBound else { throw ValidationError("", "That is too large. \(bounds)") }
            guard n >= range.lowerBound else { throw ValidationError("", bounds) }
            return n
        }
        let rest = text.utf8.dropFirst()
        if text.hasPrefix("-"), !rest.isEmpty, rest.allSatisfy(isDigit) { throw ValidationError("", "\(bounds) No minus sign.") }
        let groups = text.split(separator: ",", omittingEmptySubsequences: false)
        if groups.count > 1, groups.allSatisfy({ !$0.isEmpty && $0.utf8.allSatisfy(isDigit) }),
           groups.dropFirst().allSatisfy({ $0.utf8.count == 3 }), groups[0].utf8.count <= 3 {
            throw ValidationError("", "Leave out the thousands separator: \(groups.joined()).")
        }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        if parts.count == 2, parts.allSatisfy({ $0.utf8.allSatisfy(isDigit) }) || text.contains(",") && text.utf8.allSatisfy({ isDigit($0) || $0 == 44 }) {
            throw ValidationError("", "Enter a whole number, without decimals.")
        }
        throw ValidationError("", "Enter a whole number (digits only).")
    }
}
