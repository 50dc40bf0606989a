import Intake
import Web

/// `POST /admin/tariffs/:id`: the plan's changes saved; its form again with the errors if refused.
enum AdminTariffSave {
    static func handle(_ context: RequestContext) throws -> Response {
        let plan = try context.tariffPlan()
        return try TariffPlanSubmission.submit(context, editing: plan.id, page: { values, storage, maxFile, errors in
            try AdminTariffEditPage.render(context, plan, values: values, storage: storage, maxFile: maxFile, errors: errors)
        }, save: { input in
            let saved = try context.stores.tariffPlans.update(id: plan.id, input, by: context.actor)
            return "Plan “\(saved.name)” saved."
        })
    }
}
