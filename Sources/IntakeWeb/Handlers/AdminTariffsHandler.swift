import Intake
import Templates
import Web

/// `/admin/tariffs`: the plans, a form for a new one; `/admin/tariffs/:id`: edit, archive, delete.
enum AdminTariffsHandler {
    static func store(_ context: RequestContext) -> TariffPlanStore {
        context.stores.tariffPlans
    }

    static let blank: [String: TemplateValue] = ["name": "", "monthly_price": "", "max_portals": "5", "active": true]

    static func list(_ context: RequestContext) throws -> Response {
        try listPage(context, values: blank, storage: AdminForms.size("storage", number: "10", unit: "GB"),
                     maxFile: AdminForms.size("max_file", number: "2", unit: "GB"), errors: FieldErrors())
    }

    static func create(_ context: RequestContext) throws -> Response {
        try submit(context, page: { values, storage, maxFile, errors in
            try listPage(context, values: values, storage: storage, maxFile: maxFile, errors: errors)
        }, save: { input in
            let plan = try store(context).create(input, by: AdminForms.actor(context))
            return "Plan “\(plan.name)” created."
        })
    }

    static func edit(_ context: RequestContext) throws -> Response {
        let plan = try find(context)
        let values: [String: TemplateValue] = [
            "name": .string(plan.name), "monthly_price": .string(plan.monthlyPrice.decimalText),
            "max_portals": .string(String(plan.maxPortals)), "active": .bool(plan.active),
        ]
        return try editPage(context, plan, values: values, storage: AdminForms.size("storage", bytes: plan.storageBytes),
                            maxFile: AdminForms.size("max_file", bytes: plan.maxFileBytes), errors: FieldErrors())
    }

    static func update(_ context: RequestContext) throws -> Response {
        let plan = try find(context)
        return try submit(context, page: { values, storage, maxFile, errors in
            try editPage(context, plan, values: values, storage: storage, maxFile: maxFile, errors: errors)
        }, save: { input in
            let saved = try store(context).update(id: plan.id, input, by: AdminForms.actor(context))
            return "Plan “\(saved.name)” saved."
        })
    }

    /// The plan form's post, for a new plan and an edited one: parse, save, or show the page again
    /// with the typed values and the errors (a taken name included).
    private static func submit(
        _ context: RequestContext,
        page: ([String: TemplateValue], TemplateValue, TemplateValue, FieldErrors) throws -> Response,
        save: (TariffPlanInput) throws -> String
    ) throws -> Response {
        let form = context.formFields
        func refused(_ errors: FieldErrors) throws -> Response {
            try AdminForms.invalid(context, errors) {
                var values = AdminForms.values(context)
                values["active"] = .bool(form["active"] != nil)
                return try page(values, AdminForms.size("storage", posted: context), AdminForms.size("max_file", posted: context), errors)
            }
        }
        switch TariffPlanInput.parse({ form[$0] }, currency: context.services.configuration.currency) {
        case .failure(let errors):
            return try refused(errors)
        case .success(let input):
            do {
                return AdminForms.saved(context, try save(input), redirect: "/admin/tariffs")
            } catch let error as ValidationError {
                var errors = FieldErrors()
                errors[error.field] = error.message
                return try refused(errors)
            }
        }
    }

    static func archive(_ context: RequestContext) throws -> Response {
        let plan = try find(context)
        try store(context).archive(id: plan.id, by: AdminForms.actor(context))
        return AdminForms.saved(context, "Plan “\(plan.name)” archived; its \(plan.userCount) user(s) keep it.", redirect: "/admin/tariffs")
    }

    static func delete(_ context: RequestContext) throws -> Response {
        let plan = try find(context)
        do {
            try store(context).delete(id: plan.id, by: AdminForms.actor(context))
        } catch let error as ValidationError {
            throw HTTPError(.conflict, code: "plan_in_use", error.message)
        }
        return AdminForms.saved(context, "Plan “\(plan.name)” deleted.", redirect: "/admin/tariffs")
    }

    private static func find(_ context: RequestContext) throws -> TariffPlan {
        guard let plan = try store(context).find(id: try AdminForms.id(context)) else {
            throw HTTPError(.notFound, code: "not_found", "There is no such plan.")
        }
        return plan
    }

    static func row(_ plan: TariffPlan) -> TemplateValue {
        ["id": .int(plan.id), "name": .string(plan.name), "price": .string(plan.monthlyPrice.description),
         "storage": .string(ByteSize(bytes: plan.storageBytes).description), "maxFile": .string(ByteSize(bytes: plan.maxFileBytes).description),
         "maxPortals": .int(Int64(plan.maxPortals)), "active": .bool(plan.active), "archived": .bool(plan.archivedAt != nil),
         "users": .int(Int64(plan.userCount)), "deletable": .bool(plan.userCount == 0)]
    }

    static func listPage(_ context: RequestContext, values: [String: TemplateValue], storage: TemplateValue, maxFile: TemplateValue,
                         errors: FieldErrors) throws -> Response {
        let plans = try store(context).list(includeArchived: true)
        var values = values
        values["storage"] = storage
        values["max_file"] = maxFile
        return try PageView.render(context, "admin/tariffs", title: "Tariff plans", [
            "plans": .list(plans.map(row)), "hasPlans": .bool(!plans.isEmpty),
            "values": .map(values), "errors": AdminForms.errors(errors), "hasErrors": .bool(!errors.isEmpty),
            "currency": .string(context.services.configuration.currency.code),
            "currencyExponent": .int(Int64(context.services.configuration.currency.exponent)),
        ])
    }

    static func editPage(_ context: RequestContext, _ plan: TariffPlan, values: [String: TemplateValue], storage: TemplateValue,
                         maxFile: TemplateValue, errors: FieldErrors) throws -> Response {
        var values = values
        values["storage"] = storage
        values["max_file"] = maxFile
        return try PageView.render(context, "admin/tariff", title: "Plan \(plan.name)", [
            "plan": row(plan), "values": .map(values), "errors": AdminForms.errors(errors), "hasErrors": .bool(!errors.isEmpty),
            "currency": .string(context.services.configuration.currency.code),
            "currencyExponent": .int(Int64(context.services.configuration.currency.exponent)),
        ])
    }
}
