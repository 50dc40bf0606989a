import Intake
import Templates
import Web

/// `admin/tariffs`: every plan, archived ones included, and the new-plan form.
enum AdminTariffListPage {
    static func render(_ context: RequestContext, values: [String: TemplateValue], storage: TemplateValue, maxFile: TemplateValue,
                       errors: FieldErrors) throws -> Response {
        let plans = try context.stores.tariffPlans.list(includeArchived: true)
        var values = values
        values["storage"] = storage
        values["max_file"] = maxFile
        return try PageView.render(context, "admin/tariffs", title: "Plans", [
            "plans": .list(plans.map(TariffPlanRow.value)), "hasPlans": .bool(!plans.isEmpty),
            "values": .map(values), "errors": FormFieldView.errors(errors), "hasErrors": .bool(!errors.isEmpty),
            "currency": .string(context.services.configuration.currency.code),
            "currencyExponent": .int(Int64(context.services.configuration.currency.exponent)),
        ])
    }
}
