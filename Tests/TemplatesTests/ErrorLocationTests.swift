import Foundation
import Testing
import TestSupport
@testable import Templates

@Suite("Template errors say where")
struct ErrorLocationTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let source: String
        let expected: String
        var testDescription: String { source.debugDescription }
    }

    static let cases: [Case] = [
        Case(source: "<h1>\n  {{#plans}}\n    <p>{{name}}</p>\n", expected: "admin/pricing.mustache:4:1: section 'plans' is never closed (opened at 2:3)"),
        Case(source: "{{#a}}\n{{#b}}\n{{/a}}\n{{/b}}", expected: "admin/pricing.mustache:3:1: closing tag 'a' does not match the open section 'b' (opened at 2:1)"),
        Case(source: "text {{/orphan}}", expected: "admin/pricing.mustache:1:6: closing tag 'orphan' has no matching opening tag"),
        Case(source: "line one\nline {{name", expected: "admin/pricing.mustache:2:6: tag is never closed (expected '}}')"),
        Case(source: "{{{raw}}", expected: "admin/pricing.mustache:1:1: tag is never closed (expected '}}}')"),
        Case(source: "a\n  {{#}}", expected: "admin/pricing.mustache:2:3: a section tag has no name"),
        Case(source: "{{first name}}", expected: "admin/pricing.mustache:1:1: invalid name 'first name' (names have no spaces)"),
        Case(source: "x {{=<% %>}}", expected: "admin/pricing.mustache:1:3: tag is never closed (expected '=}}')"),
        Case(source: "{{=<%%>=}}", expected: "admin/pricing.mustache:1:1: a Set Delimiter tag needs two delimiters without '=' separated by space, like {{=<% %>=}}"),
        Case(source: "{{=<% %>=}}\n<%#list%>\n<%/lost%>", expected: "admin/pricing.mustache:3:1: closing tag 'lost' does not match the open section 'list' (opened at 2:1)"),
        Case(source: "{{^empty}}\n{{$block}}\n{{/block}}", expected: "admin/pricing.mustache:3:11: inverted section 'empty' is never closed (opened at 1:1)"),
        Case(source: "{{<layout}}\n{{$title}}Hi", expected: "admin/pricing.mustache:2:13: block 'title' is never closed (opened at 2:1)"),
        Case(source: "{{> }}", expected: "admin/pricing.mustache:1:1: a partial tag has no name"),
        Case(source: "héllo wörld {{#x}}", expected: "admin/pricing.mustache:1:19: section 'x' is never closed (opened at 1:13)"),
    ]

    @Test("malformed templates fail with file:line:column and what is wrong", arguments: cases)
    func location(_ c: Case) {
        do {
            _ = try Template(name: "admin/pricing", source: c.source, file: "admin/pricing.mustache")
            Issue.record("compiled without error")
        } catch let error as TemplateError {
            #expect(error.description == c.expected)
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test("random input never crashes the engine: it compiles and renders, or throws a located error", arguments: 0..<6)
    func fuzz(seed: UInt64) throws {
        var rng = SeededGenerator(seed: seed)
        let alphabet = Array("{{}}{{#^/!>&<$=*. \n\tabx%<>\"'é".unicodeScalars)
        let data: TemplateValue = ["a": ["b": "<x>"], "b": [1, 2], "x": true, "ab": "y"]
        for _ in 0..<500 {
            var text = ""
            for _ in 0..<Int(rng.next() % 60) { text.unicodeScalars.append(alphabet[Int(rng.next() % UInt64(alphabet.count))]) }
            do {
                let library = try TemplateLibrary(sources: ["main": text, "a": text], strict: false)
                _ = try library.render("main", data)
            } catch let error as TemplateError {
                #expect(error.line >= 1 || error.message.contains("deep"), "error without a location: \(error)")
            }
        }
    }
}

@Suite("Template library")
struct TemplateLibraryTests {
    func directory(_ files: [String: String]) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("intake-templates-\(UUID().uuidString)").path
        for (name, text) in files {
            let path = dir + "/" + name
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try text.write(toFile: path, atomically: true, encoding: .utf8)
        }
        return dir
    }

    @Test("loads a directory recursively; pages extend a layout and use partials")
    func loadsDirectory() throws {
        let dir = try directory([
            "layout.mustache": "<title>{{$title}}Intake{{/title}}</title>\n<main>\n  {{$content}}\n  {{/content}}\n</main>\n",
            "partials/row.mustache": "<td>{{name}}</td>\n",
            "admin/users.mustache": "{{<layout}}\n{{$title}}Users · Intake{{/title}}\n{{$content}}\n{{#users}}\n{{>partials/row}}\n{{/users}}\n{{/content}}\n{{/layout}}\n",
            "notes.txt": "not a template",
        ])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let library = try TemplateLibrary(directory: dir)
        #expect(library.names == ["admin/users", "layout", "partials/row"])
        let html = String(decoding: try library.render("admin/users", ["users": [["name": "A & B"], ["name": "<C>"]]]), as: UTF8.self)
        #expect(html == "<title>Users · Intake</title>\n<main>\n  <td>A &amp; B</td>\n  <td>&lt;C&gt;</td>\n</main>\n")
    }

    @Test("a missing partial or parent stops loading with its location")
    func missingReference() throws {
        let dir = try directory(["page.mustache": "ok\n{{> nav}}\n"])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let error = try #require(throws: TemplateError.self) { try TemplateLibrary(directory: dir) }
        #expect(error.description.hasSuffix("page.mustache:2:1: partial 'nav' does not exist"))
        let parent = try #require(throws: TemplateError.self) { try TemplateLibrary(sources: ["a": "{{<base}}{{/base}}"]) }
        #expect(parent.description == "a:1:1: parent 'base' does not exist")
    }

    @Test("an unconditional cycle is refused; recursion inside a section is allowed")
    func cycles() throws {
        let error = try #require(throws: TemplateError.self) {
            try TemplateLibrary(sources: ["a": "x {{>b}}", "b": "{{<c}}{{/c}}", "c": "{{>a}}"])
        }
        #expect(error.message.contains("a → b → c → a"))
        let tree = try TemplateLibrary(sources: ["node": "{{name}}({{#children}}{{>node}}{{/children}})"])
        let value: TemplateValue = ["name": "r", "children": [["name": "x", "children": []], ["name": "y", "children": [["name": "z", "children": []]]]]]
        #expect(String(decoding: try tree.render("node", value), as: UTF8.self) == "r(x()y(z()))")
    }

    @Test("data-driven endless recursion stops with an error instead of a crash")
    func depthLimit() throws {
        let library = try TemplateLibrary(sources: ["loop": "{{>*me}}"], strict: false)
        let error = try #require(throws: TemplateError.self) { try library.render("loop", ["me": "loop"]) }
        #expect(error.message.contains("nest more than"))
    }

    // Found by scripts/fuzz templates: the argument was filled into its own block without end,
    // and the worker's stack overflowed.
    @Test("an argument holding a block of its own name stops with an error instead of a crash")
    func selfFillingBlock() throws {
        let library = try TemplateLibrary(sources: ["parent": "<{{$b}}default{{/b}}>", "page": "{{<parent}}{{$b}}x{{$b}}y{{/b}}{{/b}}{{/parent}}"])
        let error = try #require(throws: TemplateError.self) { try library.render("page", [:]) }
        #expect(error.message.contains("nest more than"))
    }

    @Test("escaping covers & < > \" ' and pre-escaped HTML passes through")
    func escaping() throws {
        let library = try TemplateLibrary(sources: ["t": "{{s}}|{{{s}}}|{{svg}}"])
        let out = String(decoding: try library.render("t", ["s": "<a href=\"x\">'&'</a>", "svg": .html("<svg/>")]), as: UTF8.self)
        #expect(out == "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;|<a href=\"x\">'&'</a>|<svg/>")
    }

    @Test("development mode picks up a changed file")
    func reloading() throws {
        let dir = try directory(["p.mustache": "one"])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let library = try TemplateLibrary(directory: dir, reloading: true)
        #expect(try library.render("p", [:]) == Array("one".utf8))
        try "two".write(toFile: dir + "/p.mustache", atomically: true, encoding: .utf8)
        // Force a different modification time and let the once-a-second check come due.
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(5)], ofItemAtPath: dir + "/p.mustache")
        Thread.sleep(forTimeInterval: 1.1)
        #expect(try library.render("p", [:]) == Array("two".utf8))
    }
}
