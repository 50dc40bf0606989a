/// A problem with what someone typed into a user form, for the field it concerns.
public struct ValidationError: Error, Equatable, CustomStringConvertible {
    /// The form field (`email`, `password`, …).
    public let field: String
    public let message: String
    public init(_ field: String, _ message: String) {
        self.field = field
        self.message = message
    }
    public var description: String { "\(field): \(message)" }

    /// The same message, about `field` (parsers do not know which field they parse).
    public func on(_ field: String) -> ValidationError { ValidationError(field, message) }
}

/// Errors of a form, by field name.
public struct FieldErrors: Error, Sendable, Equatable {
    public private(set) var messages: [String: String] = [:]
    public init() {}
    public var isEmpty: Bool { messages.isEmpty }
    public subscript(field: String) -> String? {
        get { messages[field] }
        set { messages[field] = newValue }
    }

    /// These errors and `other`'s, `other` winning where both name a field: a form answers every
    /// field at once — what did not parse, and what the rules say of everything else.
    public func merging(_ other: FieldErrors) -> FieldErrors {
        var merged = self
        merged.messages.merge(other.messages) { _, theirs in theirs }
        return merged
    }

    /// Runs a parser; a validation error is recorded against `field` and nil returned.
    public mutating func capture<T>(_ field: String, _ parse: () throws -> T) -> T? {
        do { return try parse() } catch let error as ValidationError {
            messages[field] = error.message
        } catch {
            messages[field] = "This value is not valid."
        }
        return nil
    }
}
