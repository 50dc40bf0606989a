/// A name in a tag: `.` (the current value) or dotted components (`user.name`).
struct Path: Sendable, Equatable, CustomStringConvertible {
    let components: [String]
    var isImplicit: Bool { components.isEmpty }

    init(_ text: String) {
        components = text == "." ? [] : text.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
    }

    var description: String { isImplicit ? "." : components.joined(separator: ".") }
}

/// The syntax tree of a compiled template.
indirect enum Node: Sendable {
    /// Literal text, already UTF-8.
    case text([UInt8])
    /// `{{name}}` (escaped) or `{{{name}}}` / `{{& name}}`.
    case variable(Path, escaped: Bool)
    /// `{{#name}}…{{/name}}` or, inverted, `{{^name}}…{{/name}}`.
    case section(Path, [Node], inverted: Bool)
    /// `{{> name}}`.
    case partial(PartialReference)
    /// `{{< name}}…{{/name}}`.
    case parent(ParentReference)
    /// `{{$ name}}…{{/name}}`.
    case block(BlockDefinition)
}

/// A partial tag: its name, whether the name is looked up in the context, and the indentation
/// of a standalone tag, added to every line of the partial.
final class PartialReference: @unchecked Sendable {
    // `resolved` is written once while the library links its templates, before the library is
    // shared with any other thread; afterwards everything here is read-only.
    let name: String
    let dynamic: Bool
    let indentation: [UInt8]
    let offset: Int
    var resolved: Template?

    init(name: String, dynamic: Bool, indentation: [UInt8], offset: Int) {
        self.name = name
        self.dynamic = dynamic
        self.indentation = indentation
        self.offset = offset
    }
}

/// A parent tag: the template to expand, the blocks it passes as arguments, and the indentation
/// of a standalone tag.
final class ParentReference: @unchecked Sendable {
    // `resolved` is written once during linking (see PartialReference).
    let name: String
    let dynamic: Bool
    let indentation: [UInt8]?
    let arguments: [String: BlockDefinition]
    let offset: Int
    var resolved: Template?

    init(name: String, dynamic: Bool, indentation: [UInt8]?, arguments: [String: BlockDefinition], offset: Int) {
        self.name = name
        self.dynamic = dynamic
        self.indentation = indentation
        self.arguments = arguments
        self.offset = offset
    }
}

/// A block: a named place a parent exposes, with default content; inside a parent tag, an
/// argument that replaces the parent's block of that name.
///
/// A standalone block carries an indentation: its content is stored without it (dedented) and
/// whatever fills the block is indented by it, so overrides line up with the parent's layout.
final class BlockDefinition: Sendable {
    let name: String
    /// The default content, as parsed in place.
    let content: [Node]
    /// Whether the opening tag was standalone (alone on its line, or paired).
    let standalone: Bool
    /// The indentation that content placed in this block receives (when standalone).
    let indentation: [UInt8]
    /// This block's content as source, dedented when standalone: what it passes as an argument.
    let argumentSource: [UInt8]
    /// The delimiters in effect at the start of the content.
    let delimiters: Delimiters
    /// A standalone block whose content has no margin of its own takes the indentation of its
    /// tag line, so its default content is re-indented when it renders.
    let reindentsDefault: Bool
    /// Where the block's tag starts in its template, for errors.
    let offset: Int

    init(name: String, content: [Node], standalone: Bool, indentation: [UInt8], argumentSource: [UInt8],
         delimiters: Delimiters, reindentsDefault: Bool, offset: Int) {
        self.offset = offset
        self.name = name
        self.content = content
        self.standalone = standalone
        self.indentation = indentation
        self.argumentSource = argumentSource
        self.delimiters = delimiters
        self.reindentsDefault = reindentsDefault
    }
}
