import Intake
import Templates
import Web

/// `admin/tariff`: one plan's form.
enum AdminTariffEditPage {
    static func render(_ context: RequestContext, _ plan: TariffPlan, values: [String: TemplateValue], storage: TemplateValue,
                       maxFile: TemplateValue, errors: FieldErrors) throws -> Response {
        var values = values
        values["storage"] = storage
        values["max_file"] = maxFile
        return try PageView.render(context, "admin/tariff", title: "Plan \(plan.name)", [
            "plan": TariffPlanRow.value(plan), "values": .map(values), "errors": FormFieldView.errors(errors), "hasErrors": .bool(!errors.isEmpty),
            "currency": .string(context.services.configuration.currency.code),
            "currencyExponent": .int(Int64(context.services.configuration.currency.exponent)),
        ])
    }
}
