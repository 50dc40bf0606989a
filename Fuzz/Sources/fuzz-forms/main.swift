import FuzzSupport
@testable import Web

// Urlencoded forms and query strings, path segments and Cookie headers (Web). Oracles:
// - a form that parses, encoded again pair by pair, parses to the same pairs in the same order;
// - a path segment that decodes, encoded again, decodes to the same text;
// - cookies: every name is non-empty and trimmed, none holds `;` or `=`; written back as
//   `name="value"` pairs they parse to the same cookies; and the first occurrence of a name wins.

let unlimited = FormLimits(maxFields: .max, maxFieldBytes: .max, maxTotalBytes: .max)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzForms(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    var input = FuzzInput(start, count)
    let mode = input.byte() % 3
    let data = input.rest()
    switch mode {
    case 0:
        let limits = FormLimits(maxFields: 20, maxFieldBytes: 100, maxTotalBytes: 1000)
        guard let fields = try? URLEncodedForm.parse(data, limits: data.count % 2 == 0 ? limits : .default) else { return 0 }
        let pairs = fields.map { [$0.name, $0.value] }
        let encoded = fields.map { "\(URLEncodedForm.encode($0.name))=\(URLEncodedForm.encode($0.value))" }.joined(separator: "&")
        guard let again = try? URLEncodedForm.parse(encoded, limits: unlimited) else {
            require(false, "the form encoded again does not parse: \(encoded)")
            return 0
        }
        require(again.map { [$0.name, $0.value] } == pairs, "the form encoded again parses to other pairs: \(encoded)")
        for (name, _) in fields { require(fields[name] == fields.values(name).first, "the first value of '\(name)' is not its first") }
    case 1:
        let segment = String(decoding: data, as: UTF8.self)
        guard let decoded = URLEncodedForm.decodePathSegment(segment) else { return 0 }
        require(URLEncodedForm.decodePathSegment(URLEncodedForm.encode(decoded)) == decoded, "a path segment does not survive encoding")
    default:
        // Several Cookie headers, split at NUL.
        let headers = data.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        let cookies = Cookies.parse(headers)
        for (name, value) in cookies {
            require(!name.isEmpty && !name.contains(";") && !name.contains("="), "cookie name '\(name)'")
            require(!value.contains(";"), "cookie value '\(value)' holds ';'")
            for c in [name.unicodeScalars.first, name.unicodeScalars.last] {
                require(c != " " && c != "\t", "cookie name '\(name)' is not trimmed")
            }
        }
        let written = cookies.sorted { $0.key < $1.key }.map { "\($0.key)=\"\($0.value)\"" }.joined(separator: "; ")
        require(Cookies.parse([written]) == cookies, "cookies written back parse otherwise: \(written)")
        // The first occurrence wins: a header put before the others decides the names it holds.
        let first = "fuzz=first"
        require(Cookies.parse([first] + headers)["fuzz"] == "first", "a later cookie overrode the first")
    }
    return 0
}
