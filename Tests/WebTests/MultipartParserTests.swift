import Testing
import TestSupport
@testable import Web

/// A part as the tests compare it: name, file name and the whole body.
struct CollectedPart: Equatable, CustomStringConvertible {
    var name: String
    var filename: String?
    var contentType: String?
    var body: [UInt8]
    var description: String { "\(name)/\(filename ?? "-"): \(body.count) bytes" }
}

/// Feeds `body` to a parser in the given pieces and collects every part.
func parse(_ body: [UInt8], boundary: String = "XyZ", splits: [Int] = [], limits: MultipartLimits = .default) throws -> [CollectedPart] {
    var parser = try MultipartParser(boundary: boundary, limits: limits)
    var parts: [CollectedPart] = []
    var open = false
    let cuts = [0] + splits + [body.count]
    for (from, to) in zip(cuts, cuts.dropFirst()) {
        try body[from..<to].withUnsafeBytes { piece in
            try parser.feed(piece) { event in
                switch event {
                case .partBegin(let part):
                    #expect(!open, "a part began before the previous one ended")
                    open = true
                    parts.append(CollectedPart(name: part.name, filename: part.filename, contentType: part.contentType, body: []))
                case .body(let bytes):
                    #expect(open)
                    parts[parts.count - 1].body.append(contentsOf: bytes)
                case .partEnd:
                    #expect(open)
                    open = false
                }
            }
        }
    }
    try parser.finish()
    return parts
}

func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

let sampleBody = bytes(
    "--XyZ\r\n" +
    "Content-Disposition: form-data; name=\"portalId\"\r\n\r\n" +
    "42\r\n" +
    "--XyZ\r\n" +
    "Content-Disposition: form-data; name=\"file\"; filename=\"report.pdf\"\r\n" +
    "Content-Type: application/pdf\r\n\r\n" +
    "%PDF-1.7\r\n--XyQ not a boundary\r\n\r\n--Xy\r--XyZZ still data\r\n" +
    "\r\n--XyZ\r\n" +
    "Content-Disposition: form-data; name=\"empty\"\r\n\r\n" +
    "\r\n--XyZ--\r\nepilogue is ignored")

let sampleParts = [
    CollectedPart(name: "portalId", filename: nil, contentType: nil, body: bytes("42")),
    CollectedPart(name: "file", filename: "report.pdf", contentType: "application/pdf",
                  body: bytes("%PDF-1.7\r\n--XyQ not a boundary\r\n\r\n--Xy\r--XyZZ still data\r\n")),
    CollectedPart(name: "empty", filename: nil, contentType: nil, body: []),
]

@Suite("Multipart parser")
struct MultipartParserTests {
    @Test("parses fields and a file in one piece")
    func wholeBody() throws {
        #expect(try parse(sampleBody) == sampleParts)
    }

    @Test("gives the same parts whatever byte the body is split at")
    func everySplitOffset() throws {
        for offset in 0...sampleBody.count {
            let parts = try parse(sampleBody, splits: [offset])
            #expect(parts == sampleParts, "split at byte \(offset)")
        }
    }

    @Test("gives the same parts when read one byte at a time")
    func byteAtATime() throws {
        #expect(try parse(sampleBody, splits: Array(1..<sampleBody.count)) == sampleParts)
    }

    @Test("near misses of the delimiter in file data are data, wherever the pieces are cut")
    func nearMissesAcrossPieces() throws {
        // "\r\n--Xy" + a letter is never the delimiter "\r\n--XyZ" (except "Z", left out),
        // and stray CRs and dashes make the parser hold bytes back and give them up again.
        var data: [UInt8] = []
        for i in 0..<300 { data += bytes("\r\n--Xy"); data.append(UInt8(65 + i % 20)); data += bytes("\r\r\n-") }
        let body = bytes("--XyZ\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.bin\"\r\n\r\n") + data + bytes("\r\n--XyZ--")
        for offset in stride(from: 0, through: body.count, by: 7) {
            let parts = try parse(body, splits: [offset])
            #expect(parts.count == 1 && parts[0].body == data, "split at \(offset)")
        }
    }

    @Test("a preamble before the first boundary is skipped")
    func preamble() throws {
        let body = bytes("This is the preamble.\r\n--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nb\r\n--XyZ--")
        #expect(try parse(body) == [CollectedPart(name: "a", filename: nil, contentType: nil, body: bytes("b"))])
    }

    @Test("transport padding after a boundary is allowed")
    func padding() throws {
        let body = bytes("--XyZ  \t\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nb\r\n--XyZ--\r\n")
        #expect(try parse(body).map(\.body) == [bytes("b")])
    }

    @Test("a missing final boundary is an error naming the offset")
    func missingFinalBoundary() throws {
        let body = bytes("--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nsome data")
        let error = try #require(throws: MultipartError.self) { try parse(body) }
        #expect(error.reason.contains("missing final boundary"))
        #expect(error.offset == Int64(body.count))
        #expect(error.status == .badRequest)
    }

    @Test("a body ending inside headers, or with no boundary at all, is an error")
    func truncated() throws {
        #expect(throws: MultipartError.self) { try parse(bytes("--XyZ\r\nContent-Disposition: form-da")) }
        let none = try #require(throws: MultipartError.self) { try parse(bytes("no boundary here")) }
        #expect(none.reason.contains("no boundary"))
    }

    @Test("bare LF line endings are refused")
    func bareLineFeeds() throws {
        let body = bytes("--XyZ\nContent-Disposition: form-data; name=\"a\"\n\nb\n--XyZ--")
        let error = try #require(throws: MultipartError.self) { try parse(body) }
        #expect(error.offset == 5)
    }

    @Test("a part without Content-Disposition or without a name is refused")
    func dispositionRequired() throws {
        #expect(throws: MultipartError.self) { try parse(bytes("--XyZ\r\nContent-Type: text/plain\r\n\r\nx\r\n--XyZ--")) }
        #expect(throws: MultipartError.self) { try parse(bytes("--XyZ\r\nContent-Disposition: form-data\r\n\r\nx\r\n--XyZ--")) }
        #expect(throws: MultipartError.self) { try parse(bytes("--XyZ\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\nx\r\n--XyZ--")) }
    }

    @Test("file names: filename* wins, browser escapes are undone, quotes unescaped")
    func fileNames() throws {
        let body = bytes(
            "--XyZ\r\nContent-Disposition: form-data; name=\"a\"; filename=\"fallback.txt\"; filename*=UTF-8''na%C3%AFve%20r%C3%A9sum%C3%A9.txt\r\n\r\n\r\n" +
            "--XyZ\r\nContent-Disposition: form-data; name=\"b\"; filename=\"say %22hi%22.txt\"\r\n\r\n\r\n" +
            "--XyZ\r\nContent-Disposition: form-data; name=\"c\"; filename=\"back\\\\slash \\\"q\\\".txt\"\r\n\r\n\r\n--XyZ--")
        #expect(try parse(body).map(\.filename) == ["naïve résumé.txt", "say \"hi\".txt", "back\\slash \"q\".txt"])
    }

    // Found by scripts/fuzz multipart (parts a browser would encode): the escapes were undone by
    // Characters, and `%0D` or `%22` followed by a combining mark is no Character match.
    @Test("browser escapes followed by a combining mark are undone too")
    func escapesBeforeCombiningMarks() throws {
        let body = bytes(
            "--XyZ\r\nContent-Disposition: form-data; name=\"n%22\u{301}\"; filename=\"a%0D\u{33B}b%0A\u{301}c%22\u{301}.txt\"\r\n\r\n\r\n--XyZ--")
        let part = try #require(try parse(body).first)
        // Named first: #expect cannot quote a literal with a quote joined to a combining mark.
        let name = "n\"\u{301}", filename = "a\r\u{33B}b\n\u{301}c\"\u{301}.txt"
        #expect(part.name == name)
        #expect(part.filename == filename)
    }

    @Test("limits: header size, part count and field size")
    func limits() throws {
        let longHeader = bytes("--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\nX-Long: " + String(repeating: "h", count: 300) + "\r\n\r\nx\r\n--XyZ--")
        let header = try #require(throws: MultipartError.self) { try parse(longHeader, limits: MultipartLimits(maxHeaderBytes: 100)) }
        #expect(header.status == .payloadTooLarge)

        var many = bytes("")
        for i in 0..<5 { many += bytes("--XyZ\r\nContent-Disposition: form-data; name=\"f\(i)\"\r\n\r\nv\r\n") }
        many += bytes("--XyZ--")
        #expect(try parse(many, limits: MultipartLimits(maxParts: 5)).count == 5)
        #expect(throws: MultipartError.self) { try parse(many, limits: MultipartLimits(maxParts: 4)) }

        // Header lines per part: the blank line that ends the block does not count.
        func lines(_ n: Int) -> [UInt8] {
            bytes("--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n" + (1..<n).map { "X-\($0): y\r\n" }.joined() + "\r\nv\r\n--XyZ--")
        }
        #expect(try parse(lines(3), limits: MultipartLimits(maxHeaderLines: 3)).count == 1)
        let tooMany = try #require(throws: MultipartError.self) { try parse(lines(4), limits: MultipartLimits(maxHeaderLines: 3)) }
        #expect(tooMany.status == .payloadTooLarge && tooMany.reason == "more than 3 header lines in one part")
        #expect(throws: MultipartError.self) { try parse(lines(70)) }

        let field = bytes("--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n" + String(repeating: "v", count: 101) + "\r\n--XyZ--")
        #expect(throws: MultipartError.self) { try parse(field, limits: MultipartLimits(maxFieldBytes: 100)) }
        // A file part is not a field: its size is for the upload pipeline to judge.
        let file = bytes("--XyZ\r\nContent-Disposition: form-data; name=\"a\"; filename=\"f\"\r\n\r\n" + String(repeating: "v", count: 101) + "\r\n--XyZ--")
        #expect(try parse(file, limits: MultipartLimits(maxFieldBytes: 100))[0].body.count == 101)
    }

    // Found by scripts/fuzz multipart: the offset was where the piece being read began, so the
    // same body named another byte when it arrived in other pieces.
    @Test("a field over the limit is an error at its first byte too many, however the body is cut")
    func fieldLimitOffset() throws {
        let head = "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n"
        let field = bytes(head + String(repeating: "v", count: 20) + "\r\n--X" + String(repeating: "w", count: 30) + "\r\n--XyZ--")
        let limits = MultipartLimits(maxFieldBytes: 40)
        let expected = Int64(head.utf8.count + 40)
        let whole = try #require(throws: MultipartError.self) { try parse(field, limits: limits) }
        #expect(whole.offset == expected && whole.status == .payloadTooLarge)
        for cut in 1..<field.count {
            let error = try #require(throws: MultipartError.self) { try parse(field, splits: [cut], limits: limits) }
            #expect(error.offset == expected, "cut at \(cut)")
        }
        let bytewise = try #require(throws: MultipartError.self) { try parse(field, splits: Array(1..<field.count), limits: limits) }
        #expect(bytewise.offset == expected)
    }

    @Test("boundary from Content-Type, and bad boundaries refused")
    func boundaryParameter() throws {
        #expect(try MultipartParser.boundary(fromContentType: "multipart/form-data; boundary=----WebKitFormBoundary7MA4YWxk") == "----WebKitFormBoundary7MA4YWxk")
        #expect(try MultipartParser.boundary(fromContentType: "Multipart/Form-Data; charset=utf-8; boundary=\"a b\"") == "a b")
        #expect(throws: HTTPError.self) { try MultipartParser.boundary(fromContentType: "text/plain") }
        #expect(throws: HTTPError.self) { try MultipartParser.boundary(fromContentType: "multipart/form-data") }
        #expect(throws: MultipartError.self) { try MultipartParser(boundary: String(repeating: "b", count: 71)) }
        #expect(throws: MultipartError.self) { try MultipartParser(boundary: "") }
    }

    @Test("random bytes never crash the parser", arguments: 0..<8)
    func fuzzRandom(seed: UInt64) throws {
        var rng = SeededGenerator(seed: seed)
        let alphabet = bytes("\r\n-XyZ: ;=\"abcfilename")
        for _ in 0..<400 {
            let length = Int(rng.next() % 400)
            var body: [UInt8] = []
            for _ in 0..<length {
                // Mostly bytes that matter to the grammar, sometimes anything.
                body.append(rng.next() % 4 == 0 ? UInt8(truncatingIfNeeded: rng.next()) : alphabet[Int(rng.next() % UInt64(alphabet.count))])
            }
            if rng.next() % 2 == 0 { body = bytes("--XyZ\r\n") + body }
            let cut = length > 0 ? Int(rng.next() % UInt64(body.count)) : 0
            do {
                let whole = try parse(body)
                #expect(try parse(body, splits: [cut]) == whole, "split must not change the result")
            } catch is MultipartError {
                #expect(throws: MultipartError.self) { try parse(body, splits: [cut]) }
            } catch is HTTPError {
                // An over-limit or malformed header parameter: also a clean refusal.
            }
        }
    }
}
