import Intake
import Templates
import Web

/// `admin/user`: one user with their quota's parts, balance and plan, and the forms to assign a
/// plan and to set or clear the quota override (its value as typed after an error).
enum AdminUserPage {
    static func render(_ context: RequestContext, userID: Int64, errors: FieldErrors, overrideValue: TemplateValue?,
                       balanceForm: [String: String] = ["direction": "credit"]) throws -> Response {
        let services = context.services
        guard let user = try services.stores.users.find(id: userID) else {
            throw HTTPError(.notFound, code: "not_found", "There is no such user.")
        }
        let pricing = try context.stores.pricing.current()
        let quota = try services.stores.quotas.quota(userID: userID)!
        let plans = try services.stores.tariffPlans.list(includeArchived: false)
        let currentPlanID = try context.stores.users.planID(userID: userID)
        return try PageView.render(context, "admin/user", title: user.name, [
            "user": ["id": .int(user.id), "name": .string(user.name), "email": .string(user.email), "role": .string(user.role.rawValue),
                     "disabled": .bool(user.disabled), "created": .string(UTCDate.day(user.createdAt))],
            "quota": UserQuotaRow.value(quota),
            "freeStorage": .string(ByteSize(bytes: pricing.freeStorageBytes).description),
            "balance": .string(try services.stores.ledger
                .balance(userID: userID, currency: services.configuration.currency).description),
            "plans": .list(plans.filter(\.active).map { plan in
                ["id": .int(plan.id), "name": .string(plan.name), "storage": .string(ByteSize(bytes: plan.storageBytes).description),
                 "selected": .bool(plan.id == currentPlanID)]
            }),
            "noPlan": .bool(currentPlanID == nil),
            "planStanding": planStanding(quota).map(TemplateValue.string) ?? .null,
            "override": overrideValue ?? FormFieldView.size("override", bytes: quota.overrideBytes ?? quota.effectiveBytes),
            "errors": FormFieldView.errors(errors),
            "returnTo": .string("/admin/users/\(userID)"),
            "balanceForm": .map(balanceForm.mapValues(TemplateValue.string)),
            "debit": .bool(balanceForm["direction"] == "debit"),
            "currency": .string(services.configuration.currency.code),
            "usageChart": .html(UsageChart.html(try context.stores.usageSnapshots.series(userID: userID, days: UsageChart.days),
                                                days: UsageChart.days, lastDay: UsageSnapshots.day(of: context.stores.clock.now()),
                                                title: "Storage used by \(user.name) over the last \(UsageChart.days) days")),
        ])
    }

    /// Where the user's plan stands with its renewals.
    static func planStanding(_ quota: UserQuota) -> String? {
        guard let price = quota.planPrice, price.minorUnits > 0 else { return nil }
        if let grace = quota.planGraceUntil {
            return "Renewal unpaid (\(price)): in grace until \(UTCDate.minute(grace)), then back to the free storage."
        }
        return quota.planRenewsAt.map { "Renews on \(UTCDate.minute($0)) for \(price)." }
    }
}
