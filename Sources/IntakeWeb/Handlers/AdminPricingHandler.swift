import Intake
import Templates
import Web

/// `GET /admin/storage/pricing` (the form and its history) and `POST` (save a new version).
enum AdminPricingHandler {
    static func store(_ context: RequestContext) -> StoragePricingStore {
        context.stores.pricing
    }

    static func show(_ context: RequestContext) throws -> Response {
        let pricing = try store(context).current()
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
        return try page(context, values: values, free: AdminForms.size("free_storage", number: free.number, unit: free.unit.rawValue), errors: FieldErrors())
    }

    static func save(_ context: RequestContext) throws -> Response {
        let form = context.formFields
        switch StoragePricingForm.parse({ form[$0] }) {
        case .failure(let errors):
            return try AdminForms.invalid(context, errors) {
                var values = AdminForms.values(context)
                values["never_expires"] = .bool(form["never_expires"] != nil)
                return try page(context, values: values,
                                free: AdminForms.size("free_storage", posted: context),
                                errors: errors)
            }
        case .success(let pricing):
            try store(context).save(pricing, by: AdminForms.actor(context))
            return AdminForms.saved(context, "Storage pricing saved as a new version.", redirect: "/admin/storage/pricing")
        }
    }

    static func page(_ context: RequestContext, values: [String: TemplateValue], free: TemplateValue, errors: FieldErrors) throws -> Response {
        let history = try store(context).history(limit: 50)
        var values = values
        values["free"] = free
        let policy = values["over_quota_policy"]
        values["policyBlock"] = .bool(policy == .string("block"))
        values["policyDelete"] = .bool(policy == .string("delete_oldest"))
        return try PageView.render(context, "admin/pricing", title: "Storage pricing", [
            "values": .map(values),
            "errors": AdminForms.errors(errors),
            "hasErrors": .bool(!errors.isEmpty),
            "currencies": .list(Currency.known.keys.sorted().map { code in
                ["code": .string(code), "exponent": .int(Int64(Currency.known[code]!)), "selected": .bool(values["currency"] == .string(code))]
            }),
            "history": .list(history.enumerated().map { index, version in
                let p = version.pricing
                return [
                    "id": .int(version.id), "current": .bool(index == 0),
                    "when": .string(UTCDate.minute(version.createdAt)), "who": .string(version.createdByEmail ?? "—"),
                    "price": .string(p.pricePerGB.description), "range": .string("\(p.minimumGB)–\(p.maximumGB) GB"),
                    "validity": .string(p.validityDays.map { "\($0) days" } ?? "never expires"),
                    "free": .string(ByteSize(bytes: p.freeStorageBytes).description),
                    "policy": .string(p.overQuota.graceDays.map { "delete oldest after \($0) days" } ?? "block uploads"),
                ]
            }),
            "hasHistory": .bool(!history.isEmpty),
        ])
    }
}
