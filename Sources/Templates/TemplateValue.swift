/// The data a template renders: a typed, `Sendable` tree built by view models. No reflection.
public indirect enum TemplateValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int64)
    case decimal(Double)
    case string(String)
    /// HTML that Intake built itself (an inline SVG chart): written as it is, even by `{{name}}`.
    case html(String)
    case list([TemplateValue])
    case map([String: TemplateValue])

    /// Whether a section over this value renders: `false`, null, an empty list and an empty
    /// string do not; everything else (numbers included, even 0) does.
    public var isTruthy: Bool {
        switch self {
        case .null: return false
        case .bool(let b): return b
        case .list(let l): return !l.isEmpty
        case .string(let s): return !s.isEmpty
        case .html(let s): return !s.isEmpty
        case .int, .decimal, .map: return true
        }
    }
}

extension TemplateValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByFloatLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(floatLiteral value: Double) { self = .decimal(value) }
    public init(arrayLiteral elements: TemplateValue...) { self = .list(elements) }
    public init(dictionaryLiteral elements: (String, TemplateValue)...) {
        self = .map(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
    public init(nilLiteral: ()) { self = .null }
}

/// A view model that converts itself into template data.
public protocol TemplateRepresentable {
    var templateValue: TemplateValue { get }
}

extension TemplateValue: TemplateRepresentable {
    public var templateValue: TemplateValue { self }
}
extension String: TemplateRepresentable {
    public var templateValue: TemplateValue { .string(self) }
}
extension Int: TemplateRepresentable {
    public var templateValue: TemplateValue { .int(Int64(self)) }
}
extension Int64: TemplateRepresentable {
    public var templateValue: TemplateValue { .int(self) }
}
extension Bool: TemplateRepresentable {
    public var templateValue: TemplateValue { .bool(self) }
}
extension Optional: TemplateRepresentable where Wrapped: TemplateRepresentable {
    public var templateValue: TemplateValue { self?.templateValue ?? .null }
}
extension Array: TemplateRepresentable where Element: TemplateRepresentable {
    public var templateValue: TemplateValue { .list(map(\.templateValue)) }
}
