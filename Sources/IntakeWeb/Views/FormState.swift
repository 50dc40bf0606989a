import Templates

/// Field errors and kept values for a form page re-rendered after a failed post.
struct FormState {
    /// The fields as typed, by name.
    var values: [String: String] = [:]
    /// Each field's message, by name.
    var errors: [String: String] = [:]

    /// `values`, `errors` and `hasErrors`, as the account page's forms read them.
    var templateValue: TemplateValue {
        .map([
            "values": .map(values.mapValues(TemplateValue.string)),
            "errors": .map(errors.mapValues(TemplateValue.string)),
            "hasErrors": .bool(!errors.isEmpty),
        ])
    }
}
