import FuzzSupport
import Templates

// The template lexer and parser (Templates). Oracles:
// - a template that does not compile says where, inside the source (line and column);
// - one that compiles renders, alone and in a strict library as `main` beside a partial;
// - text with no tag renders as itself;
// - the same template written with other delimiters (`{{=<% %>=}}` on a line of its own, then
//   every tag's `{{`/`}}` as `<%`/`%>`) compiles or fails alike, at the same place one line down, and
//   renders the same bytes.

/// Data with a little of every kind, under the names a short template is likely to use. Made
/// for each input: libFuzzer would count a global, made by the first input, as its leak.
var data: TemplateValue { [
    "a": "<b>&'\"", "b": true, "c": 0, "d": 1.5, "e": [["a": "x"], ["a": "y"]], "f": ["a": ["b": "nested"]], "g": nil,
    "x": .html("<i>raw</i>"), "y": false, "z": [], "name": "Ada", "items": [1, 2, 3], "p": "partial",
] }

/// Line count of a source, as the locator counts lines (every LF starts one).
func lines(_ source: [UInt8]) -> Int { source.filter { $0 == 10 }.count + 1 }

func compile(_ source: [UInt8]) -> Result<Template, TemplateError> {
    // Not valid UTF-8: the library only ever compiles files as text, so decode as it would.
    do { return .success(try Template(name: "main", source: String(decoding: source, as: UTF8.self))) } catch let error as TemplateError {
        return .failure(error)
    } catch {
        fatalError("not a TemplateError: \(error)")
    }
}

func located(_ error: TemplateError, in source: [UInt8]) {
    require(error.line >= 1 && error.line <= lines(source), "error line \(error.line) outside 1...\(lines(source)): \(error)")
    require(error.column >= 1 && error.column <= source.count + 1, "error column \(error.column) outside the source: \(error)")
}

func contains(_ haystack: [UInt8], _ needle: String) -> Bool {
    let n = Array(needle.utf8)
    guard haystack.count >= n.count else { return false }
    return (0...(haystack.count - n.count)).contains { haystack[$0..<($0 + n.count)].elementsEqual(n) }
}

func occurrences(_ haystack: [UInt8], _ needle: String) -> Int {
    let n = Array(needle.utf8)
    guard haystack.count >= n.count else { return 0 }
    return (0...(haystack.count - n.count)).filter { haystack[$0..<($0 + n.count)].elementsEqual(n) }.count
}

/// The source with each tag's `{{` and `}}` written as `<%` and `%>`, as the lexer pairs them:
/// an opening, then the first closing after it. A `}}` outside any tag is text, and stays.
func retagged(_ bytes: [UInt8]) -> [UInt8] {
    let open = Array("{{".utf8), close = Array("}}".utf8)
    func find(_ needle: [UInt8], from: Int) -> Int? {
        var i = from
        while i + needle.count <= bytes.count {
            if bytes[i..<(i + needle.count)].elementsEqual(needle) { return i }
            i += 1
        }
        return nil
    }
    var out: [UInt8] = []
    var pos = 0
    while let o = find(open, from: pos) {
        out += bytes[pos..<o] + Array("<%".utf8)
        guard let c = find(close, from: o + 2) else { pos = o + 2; break }
        out += bytes[(o + 2)..<c] + Array("%>".utf8)
        pos = c + 2
    }
    return out + bytes[min(pos, bytes.count)...]
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTemplates(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    var input = FuzzInput(start, count)
    // The source as the library reads a file: UTF-8 text (invalid bytes become U+FFFD).
    let source = Array(String(decoding: input.rest(), as: UTF8.self).utf8)
    guard source.count <= 2048 else { return 0 }
    // Rendering costs what the template asks: sections nested over lists multiply, and a
    // partial that includes itself twice doubles at every level up to the nesting limit. Such
    // templates are the authors' to avoid (Intake's are its own files), so they are only compiled.
    let renders = occurrences(source, "{{#") <= 6 && !contains(source, "main")

    let rendered: [UInt8]?
    switch compile(source) {
    case .failure(let error):
        located(error, in: source)
        rendered = nil
    case .success(let template):
        guard renders else { rendered = nil; break }
        let output = try? template.render(data)
        require(output != nil, "a compiled template failed to render alone")
        if !contains(source, "{{") { require(output == source, "text without tags did not render as itself") }
        rendered = output
        // In a library, as Intake's templates are: strict, with a partial and a parent beside it.
        let sources = ["main": String(decoding: source, as: UTF8.self), "partial": "[{{a}}]\n", "parent": "<{{$b}}default{{/b}}>"]
        if let library = try? TemplateLibrary(sources: sources) {
            do { _ = try library.render("main", data) } catch let error as TemplateError {
                // Only the nesting limit may stop a render (a partial that includes itself in a section).
                require(error.message.contains("nest more than"), "a template of a checked library failed to render: \(error)")
            } catch {
                require(false, "not a TemplateError: \(error)")
            }
        }
    }

    // The same template under other delimiters. Only when nothing in it means something under
    // one pair and not the other: no triple mustache (standard delimiters only), no Set
    // Delimiter tag of its own, no `<%` or `%>` already.
    guard !contains(source, "{{{"), !contains(source, "}}}"), !contains(source, "{{="), !contains(source, "<%"), !contains(source, "%>") else { return 0 }
    let other = Array("{{=<% %>=}}\n".utf8) + retagged(source)
    switch (compile(source), compile(other)) {
    case (.failure(let a), .failure(let b)):
        require(a.line + 1 == b.line && a.column == b.column, "under other delimiters the error moved: \(a) / \(b)")
    case (.success, .success(let template)):
        guard renders else { break }
        let output = try? template.render(data)
        require(output == rendered, "under other delimiters the output differs: \(String(decoding: rendered ?? [], as: UTF8.self).debugDescription) / \(String(decoding: output ?? [], as: UTF8.self).debugDescription)")
    case (.failure(let a), .success):
        require(false, "fails with {{ }} (\(a)) but compiles with <% %>")
    case (.success, .failure(let b)):
        require(false, "compiles with {{ }} but fails with <% %> (\(b))")
    }
    return 0
}
