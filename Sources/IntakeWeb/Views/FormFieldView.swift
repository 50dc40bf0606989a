import Intake
import Templates

/// Form fields as templates show them: the values as posted, the errors by field, and the
/// number-and-unit size fields.
enum FormFieldView {
    /// The form values as they were posted (for re-rendering), without the CSRF token.
    static func posted(_ context: RequestContext) -> [String: TemplateValue] {
        var values: [String: TemplateValue] = [:]
        for (name, value) in context.formFields where name != "csrf_token" { values[name] = .string(value) }
        return values
    }

    /// Each field's message, by field name.
    static func errors(_ errors: FieldErrors) -> TemplateValue {
        .map(errors.messages.mapValues(TemplateValue.string))
    }

    /// A number-and-unit size field: the number and the unit choices, the current one selected.
    static func size(_ field: String, number: String, unit: String) -> TemplateValue {
        ["field": .string(field), "number": .string(number), "units": .list(ByteSize.formUnits.map { u in
            ["value": .string(u.rawValue), "selected": .bool(u.rawValue == unit)]
        })]
    }

    /// A size field showing `bytes` in its largest whole unit.
    static func size(_ field: String, bytes: Int64) -> TemplateValue {
        let shown = ByteSize(bytes: bytes).display()
        return size(field, number: shown.number, unit: shown.unit.rawValue)
    }

    /// The size fields of a posted form, as they were typed.
    static func size(_ field: String, posted context: RequestContext) -> TemplateValue {
        size(field, number: context.formFields[field + "_number"] ?? "", unit: context.formFields[field + "_unit"] ?? "")
    }
}
