import Intake
import Web

/// `POST /admin/tariffs/:id/archive`: the plan offered no more; its users keep it.
enum AdminTariffArchive {
    static func handle(_ context: RequestContext) throws -> Response {
        let plan = try context.tariffPlan()
        try context.stores.tariffPlans.archive(id: plan.id, by: context.actor)
        return FormAnswer.saved(context, "Plan “\(plan.name)” archived; its \(Counted.text(plan.userCount, "user")) keep it.", redirect: "/admin/tariffs")
    }
}
