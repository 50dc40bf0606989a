import Intake
import Templates
import Web

/// `GET /admin/storage/pricing`: the current storage pricing as a form, and its history.
enum AdminPricingShow {
    static func handle(_ context: RequestContext) throws -> Response {
        let pricing = try context.stores.pricing.current()
        let free = ByteSize(bytes: pricing.freeStorageBytes).display()
        let values: [String: TemplateValue] = [
            "price_per_gb": .string(pricing.pricePerGB.decimalText),
            "currency": .string(pricing.pricePerGB.currency.code),
            "min_gb": .string(String(pricing.minimumGB)),
            "max_gb": .string(String(pricing.maximumGB)),
            "validity_days": .string(pricing.validityDays.map(String.init) ?? ""),
            "never_expires": .bool(pricing.validityDays == nil),
            "over_quota_policy": .string(pricing.overQuota.code),
            "grace_days": .string(pricing.overQuota.graceDays.map(String.init) ?? "30"),
        ]
        return try AdminPricingPage.render(context, values: values, free: FormFieldView.size("free_storage", number: free.number, unit: free.unit.rawValue),
                                           errors: FieldErrors())
    }
}
