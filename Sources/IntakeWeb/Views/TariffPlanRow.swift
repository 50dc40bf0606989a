import Intake
import Templates

/// A tariff plan as the plans list's row and the edit page's heading: its price and limits, its
/// state, how many users have it, and whether it can be deleted (nobody has it).
enum TariffPlanRow {
    static func value(_ plan: TariffPlan) -> TemplateValue {
        ["id": .int(plan.id), "name": .string(plan.name), "price": .string(plan.monthlyPrice.description),
         "storage": .string(ByteSize(bytes: plan.storageBytes).description), "maxFile": .string(ByteSize(bytes: plan.maxFileBytes).description),
         "maxPortals": .int(Int64(plan.maxPortals)), "active": .bool(plan.active), "archived": .bool(plan.archivedAt != nil),
         "users": .int(Int64(plan.userCount)), "deletable": .bool(plan.userCount == 0)]
    }
}
