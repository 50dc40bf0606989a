/// Renders a syntax tree into one growing byte buffer, with the context stack of the spec.
struct Renderer {
    let library: TemplateLibrary?
    var output: [UInt8] = []
    private var stack: [TemplateValue]
    private var depth = 0

    /// How deep partials and parents may nest before rendering stops with an error, so that
    /// data-driven recursion can never overflow the thread's stack.
    static let maximumDepth = 100

    init(library: TemplateLibrary?, value: TemplateValue, capacity: Int = 4096) {
        self.library = library
        self.stack = [value]
        output.reserveCapacity(capacity)
    }

    mutating func render(_ nodes: [Node], arguments: [String: BlockDefinition]?, in template: Template) throws {
        for node in nodes {
            switch node {
            case .text(let bytes):
                output.append(contentsOf: bytes)
            case .variable(let path, let escaped):
                guard let value = lookup(path) else { continue }
                write(value, escaped: escaped)
            case .section(let path, let children, let inverted):
                let value = lookup(path) ?? .null
                if inverted {
                    if !value.isTruthy { try render(children, arguments: arguments, in: template) }
                    continue
                }
                guard value.isTruthy else { continue }
                switch value {
                case .list(let items):
                    for item in items {
                        stack.append(item)
                        try render(children, arguments: arguments, in: template)
                        stack.removeLast()
                    }
                case .bool:
                    try render(children, arguments: arguments, in: template)
                default:
                    stack.append(value)
                    try render(children, arguments: arguments, in: template)
                    stack.removeLast()
                }
            case .partial(let reference):
                guard let library, let target = resolve(reference.resolved, reference.name, reference.dynamic, library) else { continue }
                let nodes = reference.indentation.isEmpty ? target.nodes : try library.indented(target, by: reference.indentation).nodes
                try nested(template, reference.offset) { try $0.render(nodes, arguments: arguments, in: target) }
            case .parent(let reference):
                guard let library, let target = resolve(reference.resolved, reference.name, reference.dynamic, library) else { continue }
                var merged = reference.arguments
                if let arguments {
                    // The outermost template's arguments win (multi-level inheritance).
                    merged.merge(arguments) { _, outer in outer }
                }
                let nodes: [Node]
                if let indentation = reference.indentation, !indentation.isEmpty {
                    nodes = try library.indented(target, by: indentation).nodes
                } else {
                    nodes = target.nodes
                }
                try nested(template, reference.offset) { try $0.render(nodes, arguments: merged, in: target) }
            case .block(let block):
                if let argument = arguments?[block.name], let library {
                    let filled = try library.filled(block, with: argument)
                    // An argument may hold a block of its own name, which the same argument fills
                    // again, and again: counted as a partial is, so it ends in an error, not a
                    // stack overflow.
                    try nested(template, block.offset) { try $0.render(filled.nodes, arguments: arguments, in: template) }
                } else if block.reindentsDefault, let library {
                    try render(try library.filled(block, with: block).nodes, arguments: arguments, in: template)
                } else {
                    try render(block.content, arguments: arguments, in: template)
                }
            }
        }
    }

    private mutating func nested(_ template: Template, _ offset: Int, _ body: (inout Renderer) throws -> Void) throws {
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.maximumDepth else {
            throw template.error(offset, "partials and parents nest more than \(Self.maximumDepth) deep (endless recursion?)")
        }
        try body(&self)
    }

    /// A partial or parent by its static link, or by a name looked up in the context.
    private func resolve(_ linked: Template?, _ name: String, _ dynamic: Bool, _ library: TemplateLibrary) -> Template? {
        if !dynamic { return linked ?? library.template(named: name) }
        guard case .string(let resolvedName)? = lookup(Path(name)) else { return nil }
        return library.template(named: resolvedName)
    }

    /// The spec's name resolution: the first component is searched down the context stack, the
    /// rest only inside what it found.
    func lookup(_ path: Path) -> TemplateValue? {
        if path.isImplicit { return stack.last }
        let components = path.components
        var found: TemplateValue?
        for value in stack.reversed() {
            if case .map(let map) = value, let v = map[components[0]] {
                found = v
                break
            }
        }
        guard var current = found else { return nil }
        for component in components.dropFirst() {
            guard case .map(let map) = current, let next = map[component] else { return nil }
            current = next
        }
        return current
    }

    private mutating func write(_ value: TemplateValue, escaped: Bool) {
        switch value {
        case .string(let s):
            if escaped { HTMLEscape.append(s, to: &output) } else { output.append(contentsOf: s.utf8) }
        case .html(let s):
            output.append(contentsOf: s.utf8)
        case .int(let i):
            output.append(contentsOf: String(i).utf8)
        case .decimal(let d):
            let text = d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : String(d)
            output.append(contentsOf: text.utf8)
        case .bool(let b):
            output.append(contentsOf: (b ? "true" : "false").utf8)
        case .null, .list, .map:
            break
        }
    }
}

/// HTML (and XML) escaping of `& < > " '`, appending runs of safe bytes in one copy; the one
/// escaper: templates, the few pages built outside them, and SVG drawn in code use it.
public enum HTMLEscape {
    public static func escape(_ text: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        append(text, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    static func append(_ text: String, to output: inout [UInt8]) {
        var text = text
        text.withUTF8 { bytes in
            var runStart = 0
            for i in 0..<bytes.count {
                let replacement: StaticString
                switch bytes[i] {
                case UInt8(ascii: "&"): replacement = "&amp;"
                case UInt8(ascii: "<"): replacement = "&lt;"
                case UInt8(ascii: ">"): replacement = "&gt;"
                case UInt8(ascii: "\""): replacement = "&quot;"
                case UInt8(ascii: "'"): replacement = "&#39;"
                default: continue
                }
                if i > runStart { output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<i])) }
                output.append(contentsOf: UnsafeBufferPointer(start: replacement.utf8Start, count: replacement.utf8CodeUnitCount))
                runStart = i + 1
            }
            if runStart < bytes.count { output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart...])) }
        }
    }
}
