import Foundation
import Synchronization

/// Every template of a site, compiled at start and cross-checked: in strict mode a missing
/// partial or parent, or a cycle that would recurse forever, stops start-up with its location.
///
/// Names are paths relative to the directory without the extension (`admin/pricing`). The library
/// is shared by all request threads; the variants it compiles on demand (a partial indented for a
/// standalone tag, an argument re-indented for a block) are cached under a lock.
public final class TemplateLibrary: Sendable {
    private final class Snapshot: Sendable {
        let templates: [String: Template]
        let stamps: [String: Double]
        init(templates: [String: Template], stamps: [String: Double]) {
            self.templates = templates
            self.stamps = stamps
        }
    }

    private enum VariantKey: Hashable {
        case indented(ObjectIdentifier, [UInt8])
        case filled(ObjectIdentifier, ObjectIdentifier)
    }

    private let snapshot: Mutex<Snapshot>
    private let variants = Mutex<[VariantKey: Template]>([:])
    private let directory: String?
    private let fileExtension: String
    private let strict: Bool
    private let reloading: Bool
    private let lastCheck = Mutex<Double>(0)

    /// Loads every `*.mustache` under `directory`. With `reloading`, changed files are
    /// recompiled before a render (at most once a second): for development only.
    public init(directory: String, fileExtension: String = "mustache", strict: Bool = true, reloading: Bool = false) throws {
        self.directory = directory
        self.fileExtension = fileExtension
        self.strict = strict
        self.reloading = reloading
        let (sources, stamps) = try Self.read(directory: directory, fileExtension: fileExtension)
        snapshot = Mutex(Snapshot(templates: try Self.compile(sources, strict: strict), stamps: stamps))
    }

    /// Compiles templates given as text, by name. `strict: false` lets references to missing
    /// partials render as nothing, as the Mustache spec requires of a lone template.
    public init(sources: [String: String], strict: Bool = true) throws {
        directory = nil
        fileExtension = "mustache"
        self.strict = strict
        reloading = false
        let named = sources.mapValues { (file: "", bytes: Array($0.utf8)) }
        snapshot = Mutex(Snapshot(templates: try Self.compile(named, strict: strict), stamps: [:]))
    }

    /// The names of every template.
    public var names: [String] { snapshot.withLock { $0.templates.keys.sorted() } }

    /// The template called `name`, if any.
    public func template(named name: String) -> Template? {
        snapshot.withLock { $0.templates[name] }
    }

    /// Renders the template `name` with `value`.
    public func render(_ name: String, _ value: TemplateValue) throws -> [UInt8] {
        if reloading { try reloadIfChanged() }
        guard let template = template(named: name) else {
            throw TemplateError(file: name, line: 0, column: 0, message: "no template named '\(name)'")
        }
        var renderer = Renderer(library: self, value: value, capacity: max(4096, template.source.count * 2))
        try renderer.render(template.nodes, arguments: nil, in: template)
        return renderer.output
    }

    // MARK: Variants

    /// `template` with every non-blank line indented (a standalone partial or parent tag).
    func indented(_ template: Template, by indentation: [UInt8]) throws -> Template {
        try variant(.indented(ObjectIdentifier(template), indentation)) {
            try Template(name: template.name, bytes: Indentation.indent(template.source, indentation),
                         file: template.file, delimiters: .standard)
        }
    }

    /// What fills `block` when `argument` is passed for it (or is its own default):
    /// the argument's dedented content, indented as the block is when standalone.
    func filled(_ block: BlockDefinition, with argument: BlockDefinition) throws -> Template {
        try variant(.filled(ObjectIdentifier(block), ObjectIdentifier(argument))) {
            let source = block.standalone ? Indentation.indent(argument.argumentSource, block.indentation) : argument.argumentSource
            return try Template(name: "$" + argument.name, bytes: source, file: "block '\(argument.name)'", delimiters: argument.delimiters)
        }
    }

    private func variant(_ key: VariantKey, _ make: () throws -> Template) throws -> Template {
        if let cached = variants.withLock({ $0[key] }) { return cached }
        let made = try make()
        let templates = snapshot.withLock { $0.templates }
        try Self.link(made, templates, strict: false)
        return variants.withLock { cache in
            if let raced = cache[key] { return raced }
            cache[key] = made
            return made
        }
    }

    // MARK: Loading and checking

    private static func compile(_ sources: [String: (file: String, bytes: [UInt8])], strict: Bool) throws -> [String: Template] {
        var templates: [String: Template] = [:]
        for name in sources.keys.sorted() {
            let source = sources[name]!
            templates[name] = try Template(name: name, bytes: source.bytes, file: source.file.isEmpty ? name : source.file, delimiters: .standard)
        }
        for name in templates.keys.sorted() { try link(templates[name]!, templates, strict: strict) }
        if strict { try checkCycles(templates) }
        return templates
    }

    /// Points static partial and parent references at their templates.
    private static func link(_ template: Template, _ templates: [String: Template], strict: Bool) throws {
        try template.walk { node, _ in
            switch node {
            case .partial(let reference) where !reference.dynamic:
                reference.resolved = templates[reference.name]
                if strict && reference.resolved == nil {
                    throw template.error(reference.offset, "partial '\(reference.name)' does not exist")
                }
            case .parent(let reference) where !reference.dynamic:
                reference.resolved = templates[reference.name]
                if strict && reference.resolved == nil {
                    throw template.error(reference.offset, "parent '\(reference.name)' does not exist")
                }
            default: break
            }
        }
    }

    /// Refuses templates that include each other in a loop outside any section: such a loop
    /// recurses on every render, whatever the data. (A loop through a section ends when the data
    /// does, as a tree rendered by a recursive partial does.)
    private static func checkCycles(_ templates: [String: Template]) throws {
        var edges: [String: [(String, Int)]] = [:]
        for (name, template) in templates {
            template.walk { node, conditional in
                guard !conditional else { return }
                switch node {
                case .partial(let r) where !r.dynamic: edges[name, default: []].append((r.name, r.offset))
                case .parent(let r) where !r.dynamic: edges[name, default: []].append((r.name, r.offset))
                default: break
                }
            }
        }
        var state: [String: Int] = [:]  // 1 visiting, 2 done
        var path: [String] = []
        func visit(_ name: String) throws {
            state[name] = 1
            path.append(name)
            for (next, offset) in edges[name] ?? [] {
                if state[next] == 1 {
                    let cycle = path[path.firstIndex(of: next)!...] + [next]
                    throw templates[name]!.error(offset, "templates include each other endlessly: \(cycle.joined(separator: " → "))")
                }
                if state[next] == nil { try visit(next) }
            }
            path.removeLast()
            state[name] = 2
        }
        for name in templates.keys.sorted() where state[name] == nil { try visit(name) }
    }

    private static func read(directory: String, fileExtension: String) throws -> ([String: (file: String, bytes: [UInt8])], [String: Double]) {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw TemplateError(file: directory, line: 0, column: 0, message: "the templates directory does not exist")
        }
        var sources: [String: (file: String, bytes: [UInt8])] = [:]
        var stamps: [String: Double] = [:]
        let base = URL(fileURLWithPath: directory).standardizedFileURL.path
        guard let enumerator = fm.enumerator(atPath: base) else { return (sources, stamps) }
        while let relative = enumerator.nextObject() as? String {
            guard relative.hasSuffix("." + fileExtension) else { continue }
            let path = base + "/" + relative
            guard let data = fm.contents(atPath: path) else {
                throw TemplateError(file: path, line: 0, column: 0, message: "cannot read the file")
            }
            let name = String(relative.dropLast(fileExtension.count + 1))
            sources[name] = (path, [UInt8](data))
            stamps[path] = (try? fm.attributesOfItem(atPath: path)[.modificationDate] as? Date)??.timeIntervalSince1970 ?? 0
        }
        return (sources, stamps)
    }

    /// Development mode: recompiles when a file was added, removed or changed.
    private func reloadIfChanged() throws {
        guard let directory else { return }
        let now = Date().timeIntervalSince1970
        let due = lastCheck.withLock { last -> Bool in
            if now - last < 1 { return false }
            last = now
            return true
        }
        guard due else { return }
        let (sources, stamps) = try Self.read(directory: directory, fileExtension: fileExtension)
        guard stamps != snapshot.withLock({ $0.stamps }) else { return }
        let templates = try Self.compile(sources, strict: strict)
        snapshot.withLock { $0 = Snapshot(templates: templates, stamps: stamps) }
        variants.withLock { $0.removeAll() }
    }
}
