import Foundation
import Intake

/// A JSON object body read field by field, each by its type; a field of the wrong type, and any
/// field nobody read, is reported by name (422) instead of being silently dropped.
struct JSONFields {
    private let object: [String: Any]
    private var read: Set<String> = []
    private(set) var errors = FieldErrors()

    init(_ object: [String: Any]) { self.object = object }

    /// Whether the body names `key` (with any value, null included).
    func has(_ key: String) -> Bool { object[key] != nil }

    private mutating func value(_ key: String) -> Any? {
        read.insert(key)
        guard let value = object[key], !(value is NSNull) else { return nil }
        return value
    }

    /// Foundation decodes `true` and `1` both as NSNumber; only its boolean subclass is a JSON boolean.
    private static func isBoolean(_ value: Any) -> Bool { String(describing: type(of: value)).contains("Boolean") }

    mutating func string(_ key: String) -> String? {
        guard let value = value(key) else { return nil }
        guard let text = value as? String else { errors[key] = "Must be a string."; return nil }
        return text
    }

    mutating func bool(_ key: String) -> Bool? {
        guard let value = value(key) else { return nil }
        guard Self.isBoolean(value), let flag = value as? Bool else { errors[key] = "Must be true or false."; return nil }
        return flag
    }

    mutating func int(_ key: String) -> Int64? {
        guard let value = value(key) else { return nil }
        guard !Self.isBoolean(value), let number = value as? NSNumber, let exact = Int64(exactly: number.doubleValue) else {
            errors[key] = "Must be a whole number."
            return nil
        }
        return exact
    }

    /// An id, sent as the API shows ids (a string of digits) or as a number.
    mutating func id(_ key: String) -> Int64? {
        guard let value = value(key) else { return nil }
        if let text = value as? String, let id = Int64(text), id > 0 { return id }
        if !Self.isBoolean(value), let number = value as? NSNumber, let id = Int64(exactly: number.doubleValue), id > 0 { return id }
        errors[key] = "Must be an id."
        return nil
    }

    mutating func strings(_ key: String) -> [String]? {
        guard let value = value(key) else { return nil }
        guard let list = value as? [Any], let texts = list as? [String] else { errors[key] = "Must be a list of strings."; return nil }
        return texts
    }

    /// Records a problem with a field's value.
    mutating func errorsAppend(_ key: String, _ message: String) { errors[key] = message }

    /// Every field was read and of its type; otherwise the errors, each by field.
    mutating func finish() throws {
        for key in object.keys where !read.contains(key) { errors[key] = "Unknown field." }
        if !errors.isEmpty { throw errors }
    }
}
