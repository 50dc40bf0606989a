/// An ISO 4217 currency and how many digits follow its decimal point.
public struct Currency: Sendable, Hashable, CustomStringConvertible {
    public let code: String
    /// The minor-unit exponent: 2 for USD (cents), 0 for JPY, 3 for KWD.
    public let exponent: Int

    /// The currencies Intake accepts, with their ISO 4217 exponents.
    public static let known: [String: Int] = [
        "USD": 2, "EUR": 2, "GBP": 2, "CHF": 2, "CAD": 2, "AUD": 2, "NZD": 2, "SEK": 2, "NOK": 2, "DKK": 2,
        "PLN": 2, "CZK": 2, "HUF": 2, "INR": 2, "BRL": 2, "MXN": 2, "ZAR": 2, "SGD": 2, "HKD": 2, "CNY": 2,
        "JPY": 0, "KRW": 0, "ISK": 0, "CLP": 0, "VND": 0,
        "KWD": 3, "BHD": 3, "OMR": 3, "JOD": 3, "TND": 3,
    ]

    /// The currency for an ISO code (any case), or nil if Intake does not know it.
    public init?(code raw: String) {
        let code = raw.trimmingSpaces().uppercased()
        guard let exponent = Self.known[code] else { return nil }
        self.code = code
        self.exponent = exponent
    }

    /// The sign people know it by, where one is unambiguous in English text (as `Intl` shows
    /// them for en-US): `$`, `€`, `£`, `¥`, `₹`, `CA$`…; others read as their code (`CHF 4.99`).
    public var symbol: String? { Self.symbols[code] }

    static let symbols: [String: String] = [
        "USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹", "KRW": "₩", "VND": "₫", "CNY": "CN¥",
        "CAD": "CA$", "AUD": "A$", "NZD": "NZ$", "BRL": "R$", "MXN": "MX$", "HKD": "HK$",
    ]

    /// What goes before an amount: the sign, or the code and a no-break space (`CHF 4.99`).
    public var prefix: String { symbol ?? code + "\u{00A0}" }

    public var description: String { code }
}

/// An amount of money: a whole number of minor units (cents) and its currency. Never a float.
public struct Money: Sendable, Hashable, CustomStringConvertible {
    public let minorUnits: Int64
    public let currency: Currency

    public init(minorUnits: Int64, currency: Currency) {
        self.minorUnits = minorUnits
        self.currency = currency
    }

    /// Parses what a person types ("4.99", "12", "0.5") exactly, in the currency's minor units.
    /// Refuses signs, exponents, grouping, non-ASCII digits, more decimals than the currency has,
    /// and amounts beyond 64 bits — with a message for the form.
    public static func parse(_ raw: String, currency: Currency) throws -> Money {
        let digits = try DecimalText.parse(raw, meaning: .amount, maximumFractionDigits: currency.exponent,
                                           tooPrecise: "Use at most \(currency.exponent) decimal\(currency.exponent == 1 ? "" : "s") for \(currency.code).")
        return Money(minorUnits: try digits.scaled(by: currency.exponent), currency: currency)
    }

    /// `4.99` for 499 cents: the form's own notation, so a value shown can be saved back.
    /// A charge reads `-2.50`.
    public var decimalText: String {
        guard currency.exponent > 0 else { return String(minorUnits) }
        var divisor: UInt64 = 1
        for _ in 0..<currency.exponent { divisor *= 10 }
        let magnitude = minorUnits.magnitude
        let fraction = String(magnitude % divisor)
        return "\(minorUnits < 0 ? "-" : "")\(magnitude / divisor).\(String(repeating: "0", count: currency.exponent - fraction.count))\(fraction)"
    }

    /// `$4.99`, `-€2.50`, `¥500`, `CHF 4.99`: the amount as pages show it (exports keep
    /// `decimalText` and the code apart).
    public var description: String {
        let amount = decimalText
        let (sign, digits) = amount.hasPrefix("-") ? ("-", String(amount.dropFirst())) : ("", amount)
        return sign + currency.prefix + digits
    }
}

/// A non-negative decimal number typed into a form, kept as its digits so nothing is rounded.
struct DecimalText {
    let integer: [UInt8]    // ASCII digits, no leading zeros issue
    let fraction: [UInt8]

    /// What a number stands for: its messages speak of it ("-5" in a size is not a money error).
    enum Meaning {
        case amount, size
        var example: String { self == .amount ? "4.99" : "1.5" }
        var negative: String { self == .amount ? "Enter an amount of 0 or more, without a minus sign." : "A size cannot be negative." }
        var invalid: String { "Enter a number like \(example) (digits, and a point for decimals)." }
    }

    static func parse(_ raw: String, meaning: Meaning, maximumFractionDigits: Int, tooPrecise: String) throws -> DecimalText {
        let trimmed = raw.trimmingSpaces()
        let text = Array(trimmed.utf8)
        guard !text.isEmpty else { throw ValidationError("", "Enter a number.") }
        let isDigit = { (b: UInt8) in (48...57).contains(b) }
        if text.first == UInt8(ascii: "-"), text.count > 1, text.dropFirst().allSatisfy({ isDigit($0) || $0 == UInt8(ascii: ".") }) {
            throw ValidationError("", meaning.negative)
        }
        // "9,99": a decimal comma; "1,000": a thousands separator. Say what to type instead.
        if let comma = text.firstIndex(of: UInt8(ascii: ",")), text.allSatisfy({ isDigit($0) || $0 == UInt8(ascii: ",") }), comma > 0 {
            let groups = trimmed.split(separator: ",", omittingEmptySubsequences: false)
            if groups.count > 1, groups.dropFirst().allSatisfy({ $0.utf8.count == 3 }), groups[0].utf8.count <= 3 {
                throw ValidationError("", "Leave out the thousands separator: \(groups.joined()).")
            }
            if groups.count == 2, !groups[1].isEmpty {
                throw ValidationError("", "Use a point for decimals: \(groups[0]).\(groups[1]).")
            }
        }
        let invalid = meaning.invalid
        var integer: [UInt8] = []
        var fraction: [UInt8] = []
        var seenPoint = false
        for b in text {
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                if seenPoint { fraction.append(b) } else { integer.append(b) }
            case UInt8(ascii: ".") where !seenPoint:
                seenPoint = true
            default:
                throw ValidationError("", invalid)
            }
        }
        guard !integer.isEmpty || !fraction.isEmpty, !(seenPoint && fraction.isEmpty) else { throw ValidationError("", invalid) }
        while fraction.last == UInt8(ascii: "0") { fraction.removeLast() }
        guard fraction.count <= maximumFractionDigits else { throw ValidationError("", tooPrecise) }
        return DecimalText(integer: integer, fraction: fraction)
    }

    /// The number times 10^exponent, as an exact integer; overflow is a validation error.
    func scaled(by exponent: Int) throws -> Int64 {
        var value: Int64 = 0
        let digits = integer + fraction + [UInt8](repeating: UInt8(ascii: "0"), count: exponent - fraction.count)
        for d in digits {
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(Int64(d - UInt8(ascii: "0")))
            guard !o1, !o2 else { throw ValidationError("", "This number is too large for Intake.") }
            value = sum
        }
        return value
    }

    /// The number times `multiplier` (a unit's size in bytes), exactly; the product must be whole.
    func times(_ multiplier: Int64) throws -> Int64 {
        // value = digits / 10^f; value × m must be an integer.
        var numerator: Int64 = try scaled(by: fraction.count)
        var denominator: Int64 = 1
        for _ in 0..<fraction.count { denominator *= 10 }
        let g = gcd(numerator == 0 ? denominator : numerator, denominator)
        numerator /= g
        denominator /= g
        guard multiplier % denominator == 0 else { throw ValidationError("", "This is not a whole number of bytes.") }
        let (product, overflow) = numerator.multipliedReportingOverflow(by: multiplier / denominator)
        guard !overflow else { throw ValidationError("", "This size is too large for Intake (at most 9.2 million TB).") }
        return product
    }

    private func gcd(_ a: Int64, _ b: Int64) -> Int64 { b == 0 ? a : gcd(b, a % b) }
}
