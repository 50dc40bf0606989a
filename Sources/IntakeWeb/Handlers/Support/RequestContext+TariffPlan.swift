import Intake
import Web

extension RequestContext {
    /// The tariff plan named by the path's `id`, or a 404.
    func tariffPlan() throws -> TariffPlan {
        guard let plan = try stores.tariffPlans.find(id: try pathID()) else {
            throw HTTPError(.notFound, code: "not_found", "There is no such plan.")
        }
        return plan
    }
}
