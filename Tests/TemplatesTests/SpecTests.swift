import Foundation
import Testing
import Templates

/// JSON test data, decoded strictly by type so booleans stay booleans.
enum JSON: Decodable {
    case null, bool(Bool), int(Int64), double(Double), string(String), array([JSON]), object([String: JSON])

    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let i = try? c.decode(Int64.self) { self = .int(i) }
        else if let d = try? c.decode(Double.self) { self = .double(d) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSON].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSON].self)) }
    }

    var templateValue: TemplateValue {
        switch self {
        case .null: return .null
        case .bool(let b): return .bool(b)
        case .int(let i): return .int(i)
        case .double(let d): return .decimal(d)
        case .string(let s): return .string(s)
        case .array(let a): return .list(a.map(\.templateValue))
        case .object(let o): return .map(o.mapValues(\.templateValue))
        }
    }
}

struct SpecFile: Decodable {
    struct Case: Decodable, CustomStringConvertible {
        let name: String
        let desc: String
        let data: JSON
        let template: String
        let partials: [String: String]?
        let expected: String
        var description: String { name }
    }
    let tests: [Case]
}

/// One case of the official spec, named by file and test for readable reports.
struct SpecCase: CustomTestStringConvertible, Sendable {
    let file: String
    let name: String
    let template: String
    let partials: [String: String]
    let data: TemplateValue
    let expected: String
    var testDescription: String { "\(file): \(name)" }
}

/// Every case of the vendored spec files that Intake implements (all but the optional lambdas).
let specCases: [SpecCase] = {
    let files = ["comments", "delimiters", "interpolation", "inverted", "partials", "sections", "~inheritance", "~dynamic-names"]
    return files.flatMap { file -> [SpecCase] in
        guard let url = Bundle.module.url(forResource: file, withExtension: "json", subdirectory: "spec"),
              let data = try? Data(contentsOf: url),
              let spec = try? JSONDecoder().decode(SpecFile.self, from: data) else {
            return [SpecCase(file: file, name: "the spec file could not be loaded", template: "", partials: [:], data: .null, expected: "<missing>")]
        }
        return spec.tests.map {
            SpecCase(file: file, name: $0.name, template: $0.template, partials: $0.partials ?? [:], data: $0.data.templateValue, expected: $0.expected)
        }
    }
}()

@Suite("Mustache specification")
struct SpecTests {
    @Test("every required and inheritance/dynamic-names case passes", arguments: specCases)
    func specCase(_ c: SpecCase) throws {
        let mainName = "\u{1}spec-main"
        var sources = c.partials
        sources[mainName] = c.template
        let library = try TemplateLibrary(sources: sources, strict: false)
        let output = String(decoding: try library.render(mainName, c.data), as: UTF8.self)
        #expect(output == c.expected, "template: \(c.template.debugDescription)")
    }

    @Test("the vendored files hold every case the spec's SOURCE.md counts")
    func counts() {
        let counts = Dictionary(grouping: specCases, by: \.file).mapValues(\.count)
        #expect(counts == ["comments": 12, "delimiters": 14, "interpolation": 42, "inverted": 22, "partials": 12,
                           "sections": 34, "~inheritance": 27, "~dynamic-names": 21])
    }
}
