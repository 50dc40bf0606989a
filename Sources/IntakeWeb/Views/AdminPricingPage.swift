import Intake
import Templates
import Web

/// `admin/pricing`: the pricing form (its values as saved or as typed, with errors), the
/// currencies, and every version saved so far, the current one first.
enum AdminPricingPage {
    static func render(_ context: RequestContext, values: [String: TemplateValue], free: TemplateValue, errors: FieldErrors) throws -> Response {
        let history = try context.stores.pricing.history(limit: 50)
        var values = values
        values["free"] = free
        let policy = values["over_quota_policy"]
        values["policyBlock"] = .bool(policy == .string("block"))
        values["policyDelete"] = .bool(policy == .string("delete_oldest"))
        return try PageView.render(context, "admin/pricing", title: "Storage pricing", [
            "values": .map(values),
            "errors": FormFieldView.errors(errors),
            "hasErrors": .bool(!errors.isEmpty),
            "installationCurrency": .string(context.services.configuration.currency.code),
            "currencies": .list(Currency.known.keys.sorted().map { code in
                ["code": .string(code), "exponent": .int(Int64(Currency.known[code]!)), "selected": .bool(values["currency"] == .string(code))]
            }),
            "history": .list(history.enumerated().map { index, version in
                let p = version.pricing
                return [
                    "id": .int(version.id), "current": .bool(index == 0),
                    "when": UTCDate.moment(version.createdAt), "who": .string(version.createdByEmail ?? "—"),
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
