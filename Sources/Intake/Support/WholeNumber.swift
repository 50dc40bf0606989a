/// A whole number typed into a form.
public enum WholeNumber {
    public static func parse(_ raw: String?, in range: ClosedRange<Int>) throws -> Int {
        let text = (raw ?? "").trimmingSpaces()
        guard !text.isEmpty else { throw ValidationError("", "Enter a number.") }
        guard text.utf8.allSatisfy({ (48...57).contains($0) }), let n = Int(text) else {
            throw ValidationError("", "Enter a whole number (digits only).")
        }
        guard range.contains(n) else { throw ValidationError("", "Enter a number from \(range.lowerBound) to \(range.upperBound).") }
        return n
    }
}
