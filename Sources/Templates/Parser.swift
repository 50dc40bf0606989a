/// Turns tokens into a syntax tree: applies the spec's standalone-line rules, matches opening
/// and closing tags, and collects the blocks that parent tags pass.
struct Parser {
    private let lexer: Lexer
    private var tokens: [Token]
    private var source: [UInt8] { lexer.source }
    /// For tags that are part of a standalone line: the whitespace that preceded them.
    private var before: [Int: [UInt8]] = [:]

    init(source: [UInt8], file: String, delimiters: Delimiters) throws {
        lexer = Lexer(source: source, file: file)
        tokens = try lexer.tokens(delimiters: delimiters)
        resolveStandaloneLines()
    }

    // MARK: Standalone lines

    /// Where the line holding tag `i` starts, if only spaces or tabs precede the tag on it.
    private func lineStart(_ i: Int) -> Int? {
        if i == 0 { return tokens[0].start }
        let prev = tokens[i - 1]
        guard prev.kind == .text else { return nil }
        var j = prev.end
        while j > prev.start && isInlineSpace(source[j - 1]) { j -= 1 }
        if j == prev.start { return i - 1 == 0 ? prev.start : nil }
        return source[j - 1] == 10 ? j : nil
    }

    /// Where the line holding tag `i` ends (after its line break), if only spaces or tabs follow.
    /// Also returns where the line break itself begins.
    private func lineEnd(_ i: Int) -> (end: Int, lineBreak: Int)? {
        if i == tokens.count - 1 { return (tokens[i].end, tokens[i].end) }
        let next = tokens[i + 1]
        guard next.kind == .text else { return nil }
        var j = next.start
        while j < next.end && isInlineSpace(source[j]) { j += 1 }
        if j == next.end { return i + 1 == tokens.count - 1 ? (next.end, next.end) : nil }
        if source[j] == 10 { return (j + 1, j) }
        if source[j] == 13, j + 1 < next.end, source[j + 1] == 10 { return (j + 2, j) }
        return nil
    }

    private func isTag(_ i: Int, _ kind: Token.Kind) -> Bool { i < tokens.count && tokens[i].kind == kind }

    /// Finds every standalone line first (on the untouched tokens), then trims them.
    private mutating func resolveStandaloneLines() {
        struct Unit { let first: Int; let last: Int; let keepLineBreak: Bool }
        // The kind of tag each closing tag closes (mismatches are reported later by `parse`).
        var opener: [Int: Token.Kind] = [:]
        var open: [Int] = []
        for (k, token) in tokens.enumerated() {
            switch token.kind {
            case .section, .inverted, .parent, .block: open.append(k)
            case .close: if let o = open.popLast() { opener[k] = tokens[o].kind }
            default: break
            }
        }
        var units: [Unit] = []
        var i = 0
        while i < tokens.count {
            defer { i += 1 }
            let kind = tokens[i].kind
            guard kind != .text else { continue }
            if kind.canStandAlone, lineStart(i) != nil, lineEnd(i) != nil {
                units.append(Unit(first: i, last: i, keepLineBreak: false))
                continue
            }
            // Pairs of adjacent tags that stand alone together (the inheritance spec):
            // {{$b}}{{/b}} keeps its line break; {{<p}}{{/p}}, {{<p}}{{$b}} and {{/b}}{{/p}} do not.
            guard i + 1 < tokens.count, lineStart(i) != nil, lineEnd(i + 1) != nil else { continue }
            let next = tokens[i + 1]
            if kind == .block, next.kind == .close, next.name == tokens[i].name {
                units.append(Unit(first: i, last: i + 1, keepLineBreak: true)); i += 1
            } else if kind == .parent, next.kind == .close, next.name == tokens[i].name {
                units.append(Unit(first: i, last: i + 1, keepLineBreak: false)); i += 1
            } else if kind == .parent, next.kind == .block {
                units.append(Unit(first: i, last: i + 1, keepLineBreak: false)); i += 1
            } else if kind == .close, opener[i] == .block, next.kind == .close, opener[i + 1] == .parent {
                units.append(Unit(first: i, last: i + 1, keepLineBreak: false)); i += 1
            }
        }
        // Trim, recording the indentation each unit removed.
        var trims: [(token: Int, start: Int?, end: Int?)] = []
        for unit in units {
            let start = lineStart(unit.first)!
            let (end, lineBreak) = lineEnd(unit.last)!
            before[unit.first] = Array(source[start..<tokens[unit.first].start])
            if unit.last > unit.first { before[unit.last] = [] }
            if unit.first > 0 { trims.append((unit.first - 1, nil, start)) }
            if unit.last + 1 < tokens.count { trims.append((unit.last + 1, unit.keepLineBreak ? lineBreak : end, nil)) }
        }
        for trim in trims {
            if let s = trim.start { tokens[trim.token].start = max(tokens[trim.token].start, s) }
            if let e = trim.end { tokens[trim.token].end = min(tokens[trim.token].end, e) }
        }
    }

    // MARK: Tree

    private struct Frame {
        let token: Int
        var nodes: [Node] = []
        var arguments: [String: BlockDefinition] = [:]
    }

    func parse() throws -> [Node] {
        var stack = [Frame(token: -1)]
        for (i, token) in tokens.enumerated() {
            switch token.kind {
            case .text:
                if token.end > token.start { append(.text(Array(source[token.start..<token.end])), to: &stack) }
            case .comment, .setDelimiters:
                break
            case .variable:
                append(.variable(Path(token.name), escaped: true), to: &stack)
            case .unescaped:
                append(.variable(Path(token.name), escaped: false), to: &stack)
            case .partial:
                append(.partial(PartialReference(name: token.name, dynamic: token.dynamic,
                                                 indentation: before[i] ?? [], offset: token.start)), to: &stack)
            case .section, .inverted, .parent, .block:
                stack.append(Frame(token: i))
            case .close:
                guard stack.count > 1 else {
                    throw lexer.error(token.start, "closing tag '\(token.name)' has no matching opening tag")
                }
                let frame = stack.removeLast()
                let open = tokens[frame.token]
                guard open.name == token.name else {
                    throw lexer.error(token.start, "closing tag '\(token.name)' does not match the open \(kindName(open.kind)) '\(open.name)' (opened at \(lexer.locator.text(open.start)))")
                }
                switch open.kind {
                case .section:
                    append(.section(Path(open.name), frame.nodes, inverted: false), to: &stack)
                case .inverted:
                    append(.section(Path(open.name), frame.nodes, inverted: true), to: &stack)
                case .parent:
                    append(.parent(ParentReference(name: open.name, dynamic: open.dynamic, indentation: before[frame.token],
                                                   arguments: frame.arguments, offset: open.start)), to: &stack)
                default:
                    let block = makeBlock(open: frame.token, close: i, content: frame.nodes)
                    let enclosing = stack[stack.count - 1].token
                    if enclosing >= 0, tokens[enclosing].kind == .parent {
                        // Directly inside a parent tag: an argument, not content.
                        if stack[stack.count - 1].arguments[block.name] == nil {
                            stack[stack.count - 1].arguments[block.name] = block
                        }
                    } else {
                        append(.block(block), to: &stack)
                    }
                }
            }
        }
        if stack.count > 1 {
            let open = tokens[stack[stack.count - 1].token]
            throw lexer.error(source.count, "\(kindName(open.kind)) '\(open.name)' is never closed (opened at \(lexer.locator.text(open.start)))")
        }
        return stack[0].nodes
    }

    /// Inside a parent tag only blocks count; everything else there is ignored.
    private func append(_ node: Node, to stack: inout [Frame]) {
        let top = stack.count - 1
        if top > 0, tokens[stack[top].token].kind == .parent { return }
        stack[top].nodes.append(node)
    }

    private func kindName(_ kind: Token.Kind) -> String {
        switch kind {
        case .section: return "section"
        case .inverted: return "inverted section"
        case .parent: return "parent"
        case .block: return "block"
        default: return "tag"
        }
    }

    private func makeBlock(open: Int, close: Int, content: [Node]) -> BlockDefinition {
        // The source between the tags as written, less the standalone lines of the tags
        // themselves: inner tags keep their lines, so indentation can be measured on them.
        let first = tokens[open + 1], last = tokens[close - 1]
        let innerStart = first.kind == .text ? first.start : tokens[open].end
        let innerEnd = last.kind == .text ? last.end : tokens[close].start
        let inside = innerStart < innerEnd ? Array(source[innerStart..<innerEnd]) : []
        let standalone = before[open] != nil
        var indentation: [UInt8] = []
        var argument = inside
        var reindents = false
        if standalone {
            let margin = Indentation.margin(of: inside)
            indentation = margin.isEmpty ? before[open]! : margin
            argument = Indentation.dedent(inside, margin: margin)
            reindents = margin.isEmpty && !indentation.isEmpty && !inside.allSatisfy(isSpace)
        }
        return BlockDefinition(name: tokens[open].name, content: content, standalone: standalone,
                               indentation: indentation, argumentSource: argument, delimiters: tokens[open].delimiters,
                               reindentsDefault: reindents, offset: tokens[open].start)
    }
}

/// Line indentation of template source, as the inheritance spec's re-indentation needs it.
enum Indentation {
    /// Lines with their line breaks.
    static func lines(_ text: [UInt8]) -> [ArraySlice<UInt8>] {
        var result: [ArraySlice<UInt8>] = []
        var start = 0
        for (i, b) in text.enumerated() where b == 10 {
            result.append(text[start...i])
            start = i + 1
        }
        if start < text.count { result.append(text[start...]) }
        return result
    }

    static func isBlank(_ line: ArraySlice<UInt8>) -> Bool { line.allSatisfy(isSpace) }

    /// The leading spaces and tabs common to every non-blank line.
    static func margin(of text: [UInt8]) -> [UInt8] {
        var margin: [UInt8]?
        for line in lines(text) where !isBlank(line) {
            let leading = Array(line.prefix(while: isInlineSpace))
            if let m = margin {
                var k = 0
                while k < m.count && k < leading.count && m[k] == leading[k] { k += 1 }
                margin = Array(m[0..<k])
            } else {
                margin = leading
            }
        }
        return margin ?? []
    }

    /// Removes `margin` from every line; blank lines keep only their line break.
    static func dedent(_ text: [UInt8], margin: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        for line in lines(text) {
            if isBlank(line) {
                out += line.drop(while: isInlineSpace)
            } else {
                out += line.dropFirst(margin.count)
            }
        }
        return out
    }

    /// Prefixes every non-blank line with `prefix`.
    static func indent(_ text: [UInt8], _ prefix: [UInt8]) -> [UInt8] {
        guard !prefix.isEmpty else { return text }
        var out: [UInt8] = []
        for line in lines(text) {
            if !isBlank(line) { out += prefix }
            out += line
        }
        return out
    }
}
