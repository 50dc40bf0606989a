/// A compiled template: parsed once, rendered many times, safe to share between threads.
public final class Template: Sendable {
    /// The name partials and parents refer to it by (`admin/pricing`).
    public let name: String
    /// Where it came from, for error messages.
    public let file: String
    let source: [UInt8]
    let nodes: [Node]

    /// Compiles `source`; a syntax error is thrown with its file, line and column.
    public convenience init(name: String, source: String, file: String? = nil) throws {
        try self.init(name: name, bytes: Array(source.utf8), file: file ?? name, delimiters: .standard)
    }

    init(name: String, bytes: [UInt8], file: String, delimiters: Delimiters) throws {
        self.name = name
        self.file = file
        self.source = bytes
        self.nodes = try Parser(source: bytes, file: file, delimiters: delimiters).parse()
    }

    /// Renders on its own: partials and parents render as nothing (use a `TemplateLibrary` for them).
    public func render(_ value: TemplateValue) throws -> [UInt8] {
        var renderer = Renderer(library: nil, value: value)
        try renderer.render(nodes, arguments: nil, in: self)
        return renderer.output
    }

    func error(_ offset: Int, _ message: String) -> TemplateError {
        let l = SourceLocator(bytes: source).location(offset)
        return TemplateError(file: file, line: l.line, column: l.column, message: message)
    }

    /// Calls `visit` on every node, depth first, with whether it sits inside a section.
    func walk(_ visit: (Node, _ conditional: Bool) throws -> Void) rethrows {
        func go(_ nodes: [Node], _ conditional: Bool) throws {
            for node in nodes {
                try visit(node, conditional)
                switch node {
                case .section(_, let children, _): try go(children, true)
                case .block(let block): try go(block.content, conditional)
                case .parent(let parent):
                    for argument in parent.arguments.values { try go(argument.content, conditional) }
                default: break
                }
            }
        }
        try go(nodes, false)
    }
}
