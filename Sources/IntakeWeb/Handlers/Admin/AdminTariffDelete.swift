import Intake
import Web

/// `POST /admin/tariffs/:id/delete`: a plan nobody has, deleted (409 `plan_in_use` otherwise).
enum AdminTariffDelete {
    static func handle(_ context: RequestContext) throws -> Response {
        let plan = try context.tariffPlan()
        do {
            try context.stores.tariffPlans.delete(id: plan.id, by: context.actor)
        } catch let error as ValidationError {
            throw HTTPError(.conflict, code: "plan_in_use", error.message)
        }
        return FormAnswer.saved(context, "Plan “\(plan.name)” deleted.", redirect: "/admin/tariffs")
    }
}
