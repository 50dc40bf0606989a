import Testing
@testable import Intake

@Suite("Money and sizes")
struct MoneyTests {
    let usd = Currency(code: "usd")!
    let jpy = Currency(code: "JPY")!
    let kwd = Currency(code: "KWD")!

    @Test("exact decimal parsing into minor units", arguments: [
        ("4.99", 499), ("0", 0), ("12", 1200), (" 0.5 ", 50), ("4.90", 490), ("4.990", 499), (".5", 50), ("007.10", 710),
        ("92233720368547758.07", 9_223_372_036_854_775_807),
    ])
    func valid(text: String, minor: Int64) throws {
        #expect(try Money.parse(text, currency: usd).minorUnits == minor)
    }

    @Test("refused: exponents, signs, too many decimals, overflow, non-ASCII digits, junk", arguments: [
        "1e3", "-1", "+1", "4.999", "999999999999999999999", "92233720368547758.08", "٤٫٩٩", "４.９９", "1,000", "", " ", ".", "4.", "1..2", "NaN", "0x10", "4.99 USD",
    ])
    func invalid(text: String) {
        #expect(throws: ValidationError.self, "\(text.debugDescription)") { try Money.parse(text, currency: usd) }
    }

    @Test("each refusal says what to type instead, in the words of what the number is", arguments: [
        ("9,99", "amount", "Use a point for decimals: 9.99."),
        ("1,000", "amount", "Leave out the thousands separator: 1000."),
        ("-5", "amount", "Enter an amount of 0 or more, without a minus sign."),
        ("-5", "size", "A size cannot be negative."),
        ("abc", "size", "Enter a number like 1.5 (digits, and a point for decimals)."),
        ("abc", "amount", "Enter a number like 4.99 (digits, and a point for decimals)."),
        ("99999999999", "size", "This size is too large for Intake (at most 9.2 million TB)."),
        ("999999999999999999999", "amount", "This number is too large for Intake."),
    ])
    func messages(text: String, meaning: String, message: String) {
        do {
            if meaning == "size" { _ = try ByteSize.parse(text, unit: "TB") } else { _ = try Money.parse(text, currency: usd) }
            Issue.record("\(text) was accepted")
        } catch let error as ValidationError {
            #expect(error.message == message, "\(text)")
        } catch {
            Issue.record("\(error)")
        }
    }

    @Test("whole numbers: out of range, too large, negative, decimals and separators each say so", arguments: [
        ("0", "Enter a number from 1 to 1000."), ("1001", "That is too large. Enter a number from 1 to 1000."),
        ("99999999999999999999999", "That is too large. Enter a number from 1 to 1000."),
        ("-5", "Enter a number from 1 to 1000. No minus sign."), ("2.5", "Enter a whole number, without decimals."),
        ("1,000", "Leave out the thousands separator: 1000."), ("ten", "Enter a whole number (digits only)."), ("", "Enter a number."),
    ])
    func wholeNumbers(text: String, message: String) {
        #expect(throws: ValidationError("", message)) { try WholeNumber.parse(text, in: 1...1000) }
    }

    @Test("the currency's exponent decides the decimals")
    func exponents() throws {
        #expect(try Money.parse("500", currency: jpy).minorUnits == 500)
        #expect(throws: ValidationError.self) { try Money.parse("500.5", currency: jpy) }
        #expect(try Money.parse("1.234", currency: kwd).minorUnits == 1234)
        #expect(Money(minorUnits: 499, currency: usd).decimalText == "4.99")
        #expect(Money(minorUnits: 5, currency: usd).decimalText == "0.05")
        #expect(Money(minorUnits: 500, currency: jpy).decimalText == "500")
        #expect(Money(minorUnits: -250, currency: usd).decimalText == "-2.50" && Money(minorUnits: -5, currency: usd).decimalText == "-0.05")
        #expect(Money(minorUnits: Int64.min, currency: usd).decimalText == "-92233720368547758.08", "the most negative amount, without overflow")
        #expect(Money(minorUnits: 1234, currency: kwd).description == "KWD\u{00A0}1.234")
        #expect(Currency(code: "XYZ") == nil)
    }

    @Test("sizes: a number and a unit, decimal or binary, exact to the byte", arguments: [
        ("1", "GB", 1_000_000_000), ("1.5", "GB", 1_500_000_000), ("1", "GiB", 1 << 30), ("0.5", "GiB", 1 << 29),
        ("2", "TB", 2_000_000_000_000), ("100", "MiB", 100 << 20), ("0", "MB", 0), ("1.000001", "MB", 1_000_001),
    ])
    func sizes(number: String, unit: String, bytes: Int64) throws {
        #expect(try ByteSize.parse(number, unit: unit).bytes == bytes)
    }

    @Test("sizes refused: bad units, fractions of a byte, negative, overflow")
    func badSizes() {
        for (number, unit) in [("1", "KB"), ("1", "gb"), ("0.0000001", "MB"), ("0.3", "MiB"), ("-1", "GB"), ("99999999999", "TiB"), ("1e3", "GB")] {
            #expect(throws: ValidationError.self, "\(number) \(unit)") { try ByteSize.parse(number, unit: unit) }
        }
    }

    @Test("sizes come back in the unit they were entered in")
    func display() throws {
        for (number, unit) in [("5", "GB"), ("1", "TB"), ("3", "GiB"), ("512", "MiB"), ("1.5", "GB")] {
            let size = try ByteSize.parse(number, unit: unit)
            let shown = size.display()
            #expect(try ByteSize.parse(shown.number, unit: shown.unit.rawValue) == size)
        }
        #expect(ByteSize(bytes: 5_000_000_000).display() == ("5", .GB))
        #expect(ByteSize(bytes: 3 << 30).display() == ("3.221225472", .GB))
        #expect(ByteSize(bytes: 1_500_000_000).display() == ("1.5", .GB))
        #expect(ByteSize(bytes: 60 << 20).display() == ("62.91456", .MB))
        #expect(ByteSize(bytes: 12_345).display() == ("0.012345", .MB))
    }

    @Test("one size format: decimal units, three significant digits at most", arguments: [
        (0, "0 B"), (13, "13 B"), (999, "999 B"), (1_000, "1 KB"), (62_519, "62.5 KB"), (999_499, "999 KB"),
        (999_500, "1 MB"), (9_995, "10 KB"), (1_005_000, "1.01 MB"), (1_050_000, "1.05 MB"), (60 << 20, "62.9 MB"),
        (750_000_000, "750 MB"), (1_500_000_000, "1.5 GB"), (1_234_000_000, "1.23 GB"), (3 << 30, "3.22 GB"),
        (5_000_000_000_000, "5 TB"), (1_234_567_000_000_000, "1235 TB"),
    ] as [(Int64, String)])
    func sizeText(bytes: Int64, text: String) {
        #expect(ByteSize(bytes: bytes).description == text)
    }
}
