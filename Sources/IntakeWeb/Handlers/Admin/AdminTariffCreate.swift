import Intake
import Web

/// `POST /admin/tariffs`: a new plan; the list again with the errors if refused.
enum AdminTariffCreate {
    static func handle(_ context: RequestContext) throws -> Response {
        try TariffPlanSubmission.submit(context, editing: nil, page: { values, storage, maxFile, errors in
            try AdminTariffListPage.render(context, values: values, storage: storage, maxFile: maxFile, errors: errors)
        }, save: { input in
            let plan = try context.stores.tariffPlans.create(input, by: context.actor)
            return "Plan “\(plan.name)” created."
        })
    }
}
