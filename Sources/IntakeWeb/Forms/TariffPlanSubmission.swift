import Intake
import Templates
import Web

/// The tariff plan form posted: the new-plan form on the plans list, and a plan's edit form.
enum TariffPlanSubmission {
    /// The plan form's post, for a new plan and an edited one: parse, save, or show the page again
    /// with the typed values and the errors (a taken name included).
    static func submit(
        _ context: RequestContext, editing planID: Int64?,
        page: ([String: TemplateValue], TemplateValue, TemplateValue, FieldErrors) throws -> Response,
        save: (TariffPlanInput) throws -> String
    ) throws -> Response {
        let form = context.formFields
        func refused(_ errors: FieldErrors) throws -> Response {
            try FormAnswer.invalid(context, errors) {
                var values = FormFieldView.posted(context)
                values["active"] = .bool(form["active"] != nil)
                return try page(values, FormFieldView.size("storage", posted: context), FormFieldView.size("max_file", posted: context), errors)
            }
        }
        switch TariffPlanInput.parse({ form[$0] }, currency: context.services.configuration.currency) {
        case .failure(var errors):
            if errors["name"] == nil, let name = form["name"], try context.stores.tariffPlans.nameTaken(name, except: planID) {
                errors["name"] = "A plan with this name exists already."
            }
            return try refused(errors)
        case .success(let input):
            do {
                return FormAnswer.saved(context, try save(input), redirect: "/admin/tariffs")
            } catch let error as ValidationError {
                var errors = FieldErrors()
                errors[error.field] = error.message
                return try refused(errors)
            }
        }
    }
}
