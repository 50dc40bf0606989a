import Intake
import Web

/// `POST /admin/storage/pricing`: the pricing saved as a new version (the old ones stay as
/// history); the form again with the errors by field if refused.
enum AdminPricingSave {
    static func handle(_ context: RequestContext) throws -> Response {
        let form = context.formFields
        switch StoragePricingForm.parse({ form[$0] }, installation: context.services.configuration.currency) {
        case .failure(let errors):
            return try FormAnswer.invalid(context, errors) {
                var values = FormFieldView.posted(context)
                values["never_expires"] = .bool(form["never_expires"] != nil)
                return try AdminPricingPage.render(context, values: values, free: FormFieldView.size("free_storage", posted: context),
                                                   errors: errors)
            }
        case .success(let pricing):
            try context.stores.pricing.save(pricing, by: context.actor)
            return FormAnswer.saved(context, "Storage pricing saved as a new version.", redirect: "/admin/storage/pricing")
        }
    }
}
