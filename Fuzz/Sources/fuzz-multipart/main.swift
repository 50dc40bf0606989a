import FuzzSupport
import Web

// The streaming multipart parser (Web/Multipart). Oracles:
// - the body fed in pieces (cut where the input says) gives the same events as fed whole: the
//   same parts with the same bodies, or the same error at the same byte offset;
// - no part's body holds the delimiter, and part events nest (begin, body…, end);
// - a body built from parts the input describes, as a browser encodes them, parses back to
//   exactly those parts, however it is cut.

/// What a parse reported, body pieces joined: how the body was cut must not show.
enum Recorded: Equatable {
    case begin(name: String, filename: String?, headers: [String])
    case body([UInt8])
    case end
}

struct Outcome: Equatable {
    var events: [Recorded] = []
    var error: MultipartError?

    /// The parts begun, for comparing runs that failed (how much body came before the error
    /// depends on where the pieces ended).
    var begins: [Recorded] { events.filter { if case .begin = $0 { return true } else { return false } } }
}

let boundaries = ["XyZ", "----WebKitFormBoundary7MA4YWxkTrZu0gW", "a", "--", "b\r", " x"]
let small = MultipartLimits(maxHeaderBytes: 200, maxParts: 6, maxFieldBytes: 40, maxHeaderLines: 4)

func run(_ body: [UInt8], boundary: String, limits: MultipartLimits, cuts: [Int]) -> Outcome? {
    guard var parser = try? MultipartParser(boundary: boundary, limits: limits) else { return nil }
    var outcome = Outcome()
    let delimiter = Array("\r\n--\(boundary)".utf8)
    var open = false
    let points = [0] + cuts + [body.count]
    do {
        for (from, to) in zip(points, points.dropFirst()) where to >= from {
            try body[from..<to].withUnsafeBytes { piece in
                try parser.feed(piece) { event in
                    switch event {
                    case .partBegin(let part):
                        require(!open, "a part began inside another")
                        open = true
                        outcome.events.append(.begin(name: part.name, filename: part.filename,
                                                     headers: part.headers.flatMap { [$0.name, $0.value] }))
                    case .body(let bytes):
                        require(open, "body bytes outside a part")
                        require(!bytes.isEmpty, "an empty body event")
                        if case .body(let before)? = outcome.events.last {
                            outcome.events[outcome.events.count - 1] = .body(before + Array(bytes))
                        } else {
                            outcome.events.append(.body(Array(bytes)))
                        }
                    case .partEnd:
                        require(open, "a part ended that had not begun")
                        open = false
                        outcome.events.append(.end)
                    }
                }
            }
        }
        try parser.finish()
        require(!open, "the body finished inside a part")
    } catch let error as MultipartError {
        outcome.error = error
    } catch {
        require(false, "not a MultipartError: \(error)")
    }
    for case .body(let bytes) in outcome.events {
        require(!contains(bytes, delimiter), "a part's body holds the delimiter")
    }
    return outcome
}

func firstIndex(of needle: [UInt8], in haystack: [UInt8]) -> Int? {
    guard haystack.count >= needle.count else { return nil }
    for i in 0...(haystack.count - needle.count) where haystack[i] == needle[0] && haystack[i..<(i + needle.count)].elementsEqual(needle) {
        return i
    }
    return nil
}

func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool { firstIndex(of: needle, in: haystack) != nil }

func compare(_ whole: Outcome, _ split: Outcome, _ cuts: [Int]) {
    if whole.error == nil && split.error == nil {
        require(whole.events == split.events, "fed whole and cut at \(cuts), the parts differ")
    } else {
        require(whole.error == split.error, "fed whole: \(whole.error.map { "\($0)" } ?? "no error"); cut at \(cuts): \(split.error.map { "\($0)" } ?? "no error")")
        require(whole.begins == split.begins, "fed whole and cut at \(cuts), different parts began before the error")
    }
}

/// A parameter value as a browser writes it (HTML's multipart/form-data encoding algorithm).
func browserEscaped(_ s: [UInt8]) -> [UInt8] {
    s.flatMap { b -> [UInt8] in
        switch b {
        case UInt8(ascii: "\""): return Array("%22".utf8)
        case 13: return Array("%0D".utf8)
        case 10: return Array("%0A".utf8)
        default: return [b]
        }
    }
}

/// Whether a name survives the browser's encoding unchanged: UTF-8, no `%` (the escapes are
/// undone on any `%22`), no backslash (read as a quoted-pair), no NUL.
func encodable(_ s: [UInt8]) -> Bool {
    String(validating: s, as: UTF8.self) != nil && !s.contains(UInt8(ascii: "%")) && !s.contains(UInt8(ascii: "\\")) && !s.contains(0)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMultipart(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    var input = FuzzInput(start, count)
    let mode = input.byte()
    let boundary = boundaries[Int(mode >> 1) % boundaries.count]
    let limits = mode & 0x40 != 0 ? small : .default
    let seeds = (0..<Int(input.byte() % 8)).map { _ in input.uint16() }

    if mode & 1 == 0 {
        // Garbage, or a real body from the corpus, fed whole and in pieces.
        let body = input.rest()
        let cutPoints = cuts(seeds, length: body.count)
        guard let whole = run(body, boundary: boundary, limits: limits, cuts: []) else { return 0 }
        compare(whole, run(body, boundary: boundary, limits: limits, cuts: cutPoints)!, cutPoints)
        // One byte at a time, the hardest split of all, for short bodies.
        if body.count <= 512 {
            compare(whole, run(body, boundary: boundary, limits: limits, cuts: Array(0..<body.count))!, Array(0..<body.count))
        }
        return 0
    }

    // Parts described by the input, encoded as a browser does, must come back as they went in.
    guard (try? MultipartParser(boundary: boundary)) != nil else { return 0 }
    var expected: [Recorded] = []
    var body = Array("preamble\r\n".utf8)
    let delimiter = Array("\r\n--\(boundary)".utf8)
    while !input.isEmpty && expected.count < 4 * 3 {
        let name = input.field(until: 0)
        let filename: [UInt8]? = input.byte() & 1 == 1 ? input.field(until: 0) : nil
        let content = input.field(until: 0)
        // The content must not itself end the part: the first delimiter is the one that follows it.
        guard encodable(name), filename.map(encodable) ?? true, firstIndex(of: delimiter, in: content + delimiter) == content.count else { return 0 }
        var header = Array("Content-Disposition: form-data; name=\"".utf8) + browserEscaped(name) + [UInt8(ascii: "\"")]
        if let filename { header += Array("; filename=\"".utf8) + browserEscaped(filename) + [UInt8(ascii: "\"")] }
        body += Array("--\(boundary)\r\n".utf8) + header + Array("\r\n\r\n".utf8) + content + Array("\r\n".utf8)
        let value = String(decoding: Array(header.dropFirst("Content-Disposition: ".utf8.count)), as: UTF8.self)
        expected.append(.begin(name: String(decoding: name, as: UTF8.self), filename: filename.map { String(decoding: $0, as: UTF8.self) },
                               headers: ["content-disposition", value.trimmingSpacesAndTabs()]))
        if !content.isEmpty { expected.append(.body(content)) }
        expected.append(.end)
    }
    body += Array("--\(boundary)--\r\nepilogue".utf8)
    let cutPoints = cuts(seeds, length: body.count)
    guard let outcome = run(body, boundary: boundary, limits: .default, cuts: cutPoints) else { return 0 }
    require(outcome.error == nil, "a body built as a browser builds it was refused: \(outcome.error.map { "\($0)" } ?? "")")
    require(outcome.events == expected, "the parts did not come back as they were encoded (cut at \(cutPoints)): expected \(expected), got \(outcome.events)")
    return 0
}

extension String {
    func trimmingSpacesAndTabs() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return String(s)
    }
}
