import FuzzSupport
@testable import Intake

// Money and byte sizes as people type them (Intake/Billing). Oracles:
// - Money: what parses is digits with at most one point, exactly the amount typed (its digits,
//   without leading or trailing zeros, are those of `decimalText`), and parses back from it;
// - ByteSize: what parses is a whole number of bytes, shown by `display` (either family) as a
//   number and unit that parse back to the same bytes; any size, shown, parses back the same;
//   `description` never fails.

let currencies = Currency.known.keys.sorted().compactMap { Currency(code: $0) }

/// Digits without leading zeros in the whole part or trailing zeros in the fraction: the
/// number's exact value, written one way.
func canonical(_ text: String) -> String {
    let parts = text.split(separator: ".", omittingEmptySubsequences: false)
    var whole = String(parts[0].drop { $0 == "0" })
    if whole.isEmpty { whole = "0" }
    var fraction = parts.count > 1 ? String(parts[1]) : ""
    while fraction.last == "0" { fraction.removeLast() }
    return fraction.isEmpty ? whole : whole + "." + fraction
}

func roundTrips(_ size: ByteSize) {
    for binary in [false, true] {
        let shown = size.display(preferBinary: binary)
        let back = try? ByteSize.parse(shown.number, unit: shown.unit.rawValue)
        require(back == size, "\(size.bytes) bytes shown as \(shown.number) \(shown.unit.rawValue) parse back as \(back.map { "\($0.bytes)" } ?? "an error")")
    }
    _ = size.description
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMoney(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    var input = FuzzInput(start, count)
    let selector = input.byte()
    switch selector % 3 {
    case 0:
        let currency = currencies[Int(selector / 3) % currencies.count]
        let text = String(decoding: input.rest(), as: UTF8.self)
        guard let money = try? Money.parse(text, currency: currency) else { return 0 }
        let typed = text.trimmingSpaces()
        require(typed.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || $0 == 46 } && typed.utf8.filter { $0 == 46 }.count <= 1, "'\(text)' was taken as money")
        require(money.minorUnits >= 0 && money.currency == currency, "'\(text)' parsed as \(money)")
        require(canonical(typed) == canonical(money.decimalText), "'\(text)' parsed as \(money.decimalText) \(currency)")
        require((try? Money.parse(money.decimalText, currency: currency)) == money, "\(money) does not parse back")
    case 1:
        let unit = ByteSize.Unit.allCases[Int(selector / 3) % ByteSize.Unit.allCases.count]
        let text = String(decoding: input.rest(), as: UTF8.self)
        guard let size = try? ByteSize.parse(text, unit: unit.rawValue) else { return 0 }
        require(size.bytes >= 0, "'\(text) \(unit)' parsed as \(size.bytes) bytes")
        roundTrips(size)
    default:
        roundTrips(ByteSize(bytes: Int64(bitPattern: input.uint64() & UInt64(Int64.max))))
    }
    return 0
}
