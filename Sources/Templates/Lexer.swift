/// The pair of tag delimiters in effect, `{{` and `}}` unless a Set Delimiter tag changed them.
struct Delimiters: Equatable, Hashable, Sendable {
    var open: [UInt8]
    var close: [UInt8]
    static let standard = Delimiters(open: Array("{{".utf8), close: Array("}}".utf8))
}

/// One lexical token: a run of text, or a tag with its kind and name.
struct Token {
    enum Kind: Equatable {
        case text, variable, unescaped, section, inverted, close, comment, partial, parent, block, setDelimiters

        /// Whether a tag of this kind alone on a line removes the line (spec: "standalone").
        var canStandAlone: Bool {
            switch self {
            case .section, .inverted, .close, .comment, .partial, .parent, .block, .setDelimiters: return true
            case .text, .variable, .unescaped: return false
            }
        }
    }

    var kind: Kind
    /// Byte range in the source; for text, trimmed by standalone processing.
    var start: Int
    var end: Int
    /// The tag's name, trimmed (without the `*` of a dynamic name).
    var name: String = ""
    /// `{{>*name}}` / `{{<*name}}`: the name is looked up in the context.
    var dynamic = false
    /// The delimiters in effect where the token starts.
    var delimiters: Delimiters
}

/// Splits a template into tokens, following Set Delimiter tags as it goes.
struct Lexer {
    let source: [UInt8]
    let file: String
    let locator: SourceLocator

    init(source: [UInt8], file: String) {
        self.source = source
        self.file = file
        self.locator = SourceLocator(bytes: source)
    }

    func error(_ offset: Int, _ message: String) -> TemplateError {
        let l = locator.location(offset)
        return TemplateError(file: file, line: l.line, column: l.column, message: message)
    }

    func tokens(delimiters initial: Delimiters) throws -> [Token] {
        var tokens: [Token] = []
        var delimiters = initial
        var pos = 0
        let n = source.count
        while pos < n {
            guard let tagStart = find(delimiters.open, from: pos) else {
                tokens.append(Token(kind: .text, start: pos, end: n, delimiters: delimiters))
                break
            }
            if tagStart > pos {
                tokens.append(Token(kind: .text, start: pos, end: tagStart, delimiters: delimiters))
            }
            var p = tagStart + delimiters.open.count
            guard p < n else { throw error(tagStart, "tag is never closed (expected '\(text(delimiters.close))')") }
            var kind = Token.Kind.variable
            var closing = delimiters.close
            switch source[p] {
            case UInt8(ascii: "!"): kind = .comment
            case UInt8(ascii: "#"): kind = .section
            case UInt8(ascii: "^"): kind = .inverted
            case UInt8(ascii: "/"): kind = .close
            case UInt8(ascii: ">"): kind = .partial
            case UInt8(ascii: "<"): kind = .parent
            case UInt8(ascii: "$"): kind = .block
            case UInt8(ascii: "&"): kind = .unescaped
            case UInt8(ascii: "="): kind = .setDelimiters; closing = [UInt8(ascii: "=")] + delimiters.close
            case UInt8(ascii: "{") where delimiters == .standard:
                kind = .unescaped; closing = [UInt8(ascii: "}")] + delimiters.close
            default: p -= 1  // no sigil
            }
            p += 1
            guard let closeAt = find(closing, from: p) else {
                throw error(tagStart, "tag is never closed (expected '\(text(closing))')")
            }
            let end = closeAt + closing.count
            var token = Token(kind: kind, start: tagStart, end: end, delimiters: delimiters)
            let content = trim(p, closeAt)
            switch kind {
            case .comment:
                break
            case .setDelimiters:
                let parts = source[content.0..<content.1].split(whereSeparator: { $0 == 32 || $0 == 9 || $0 == 10 || $0 == 13 })
                guard parts.count == 2, !parts[0].contains(UInt8(ascii: "=")), !parts[1].contains(UInt8(ascii: "=")) else {
                    throw error(tagStart, "a Set Delimiter tag needs two delimiters without '=' separated by space, like {{=<% %>=}}")
                }
                delimiters = Delimiters(open: Array(parts[0]), close: Array(parts[1]))
            default:
                var (s, e) = content
                if (kind == .partial || kind == .parent), s < e, source[s] == UInt8(ascii: "*") {
                    token.dynamic = true
                    (s, e) = trim(s + 1, e)
                }
                guard s < e else { throw error(tagStart, "\(describe(kind)) tag has no name") }
                let name = source[s..<e]
                if name.contains(where: { $0 == 32 || $0 == 9 || $0 == 10 || $0 == 13 }) {
                    throw error(tagStart, "invalid name '\(String(decoding: name, as: UTF8.self))' (names have no spaces)")
                }
                guard let text = String(validating: name, as: UTF8.self) else { throw error(tagStart, "tag name is not valid UTF-8") }
                token.name = text
            }
            tokens.append(token)
            pos = end
        }
        return tokens
    }

    func describe(_ kind: Token.Kind) -> String {
        switch kind {
        case .section: return "a section"
        case .inverted: return "an inverted section"
        case .close: return "a closing"
        case .partial: return "a partial"
        case .parent: return "a parent"
        case .block: return "a block"
        default: return "a variable"
        }
    }

    private func trim(_ s: Int, _ e: Int) -> (Int, Int) {
        var s = s, e = e
        while s < e, isSpace(source[s]) { s += 1 }
        while e > s, isSpace(source[e - 1]) { e -= 1 }
        return (s, e)
    }

    private func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    func find(_ needle: [UInt8], from: Int) -> Int? {
        let n = source.count, m = needle.count
        guard m > 0, from + m <= n else { return nil }
        let first = needle[0]
        var i = from
        while i + m <= n {
            if source[i] == first {
                var k = 1
                while k < m && source[i + k] == needle[k] { k += 1 }
                if k == m { return i }
            }
            i += 1
        }
        return nil
    }
}

@inline(__always) func isSpace(_ b: UInt8) -> Bool { b == 32 || b == 9 || b == 10 || b == 13 }
@inline(__always) func isInlineSpace(_ b: UInt8) -> Bool { b == 32 || b == 9 }
