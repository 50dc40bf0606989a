import Intake
import Templates
import Web

/// `GET /admin/tariffs/:id`: one plan's form.
enum AdminTariffEdit {
    static func handle(_ context: RequestContext) throws -> Response {
        let plan = try context.tariffPlan()
        let values: [String: TemplateValue] = [
            "name": .string(plan.name), "monthly_price": .string(plan.monthlyPrice.decimalText),
            "max_portals": .string(String(plan.maxPortals)), "active": .bool(plan.active),
        ]
        return try AdminTariffEditPage.render(context, plan, values: values, storage: FormFieldView.size("storage", bytes: plan.storageBytes),
                                              maxFile: FormFieldView.size("max_file", bytes: plan.maxFileBytes), errors: FieldErrors())
    }
}
