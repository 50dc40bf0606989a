import Intake
import Templates
import Web

/// `GET /admin/users/:id`: one user with usage and quota parts; `POST /admin/users/:id/plan`.
enum AdminUserHandler {
    static func show(_ context: RequestContext) throws -> Response {
        try page(context, userID: try AdminForms.id(context), errors: FieldErrors(), overrideValue: nil)
    }

    static func assignPlan(_ context: RequestContext) throws -> Response {
        let userID = try AdminForms.id(context)
        let raw = context.formFields["plan_id"] ?? ""
        var errors = FieldErrors()
        let planID: Int64?
        if raw.isEmpty || raw == "none" {
            planID = nil
        } else if let id = Int64(raw) {
            planID = id
        } else {
            errors["plan_id"] = "Choose a plan."
            return try AdminForms.invalid(context, errors) { try page(context, userID: userID, errors: errors, overrideValue: nil) }
        }
        do {
            try context.stores.quotas
                .assignPlan(userID: userID, planID: planID, by: AdminForms.actor(context))
        } catch let error as ValidationError {
            errors["plan_id"] = error.message
            return try AdminForms.invalid(context, errors) { try page(context, userID: userID, errors: errors, overrideValue: nil) }
        }
        return AdminForms.saved(context, planID == nil ? "The user now has the free storage, no plan." : "Plan assigned.",
                                redirect: "/admin/users/\(userID)")
    }

    static func page(_ context: RequestContext, userID: Int64, errors: FieldErrors, overrideValue: TemplateValue?) throws -> Response {
        let services = context.services
        guard let user = try services.stores.users.find(id: userID) else {
            throw HTTPError(.notFound, code: "not_found", "There is no such user.")
        }
        let pricing = try AdminPricingHandler.store(context).current()
        let quota = try services.stores.quotas.quota(userID: userID)!
        let plans = try services.stores.tariffPlans.list(includeArchived: false)
        let currentPlanID = try context.stores.users.planID(userID: userID)
        return try PageView.render(context, "admin/user", title: user.name, [
            "user": ["id": .int(user.id), "name": .string(user.name), "email": .string(user.email), "role": .string(user.role.rawValue),
                     "disabled": .bool(user.disabled), "created": .string(UTCDate.day(user.createdAt))],
            "quota": AdminQuotasHandler.row(quota),
            "freeStorage": .string(ByteSize(bytes: pricing.freeStorageBytes).description),
            "balance": .string(try services.stores.ledger
                .balance(userID: userID, currency: services.configuration.currency).description),
            "plans": .list(plans.filter(\.active).map { plan in
                ["id": .int(plan.id), "name": .string(plan.name), "storage": .string(ByteSize(bytes: plan.storageBytes).description),
                 "selected": .bool(plan.id == currentPlanID)]
            }),
            "noPlan": .bool(currentPlanID == nil),
            "override": overrideValue ?? AdminForms.size("override", bytes: quota.overrideBytes ?? quota.effectiveBytes),
            "errors": AdminForms.errors(errors),
            "returnTo": .string("/admin/users/\(userID)"),
        ])
    }
}
