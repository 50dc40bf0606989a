import Intake
import Templates
import Web

/// `GET /admin/storage/quotas`: users with their quotas, searchable, filterable, sortable;
/// `POST /admin/storage/quotas`: set or clear one user's override.
enum AdminQuotasHandler {
    static let pageSize = 50

    static func list(_ context: RequestContext) throws -> Response {
        let query = try context.request.query()
        let search = String((query["q"] ?? "").prefix(100))
        let filter = QuotaStore.Filter(rawValue: query["filter"] ?? "all") ?? .all
        let sort = QuotaStore.Sort(rawValue: query["sort"] ?? "email") ?? .email
        let pageNumber = max(1, min(Int(query["page"] ?? "1") ?? 1, 100_000))
        let free = try AdminPricingHandler.store(context).current().freeStorageBytes
        let (rows, total) = try context.stores.quotas
            .page(search: search, filter: filter, sort: sort, page: pageNumber, pageSize: pageSize)
        let pages = max(1, (total + pageSize - 1) / pageSize)
        func link(page: Int) -> String {
            var parts = ["filter=\(filter.rawValue)", "sort=\(sort.rawValue)", "page=\(page)"]
            if !search.isEmpty { parts.insert("q=" + URLEncodedForm.encode(search), at: 0) }
            return "/admin/storage/quotas?" + parts.joined(separator: "&")
        }
        return try PageView.render(context, "admin/quotas", title: "User quotas", [
            "query": .string(search),
            "filters": .list(QuotaStore.Filter.allCases.map { f in
                ["value": .string(f.rawValue), "label": .string(["all": "All users", "over": "Over quota", "near": "Near quota (90 % or more)"][f.rawValue]!),
                 "selected": .bool(f == filter)]
            }),
            "sorts": .list(QuotaStore.Sort.allCases.map { s in
                ["value": .string(s.rawValue), "label": .string(["email": "E-mail", "used": "Most used", "usage": "Highest usage", "quota": "Largest quota"][s.rawValue]!),
                 "selected": .bool(s == sort)]
            }),
            "rows": .list(rows.map(row)),
            "hasRows": .bool(!rows.isEmpty),
            "total": .int(Int64(total)),
            "pageNumber": .int(Int64(pageNumber)),
            "pages": .int(Int64(pages)),
            "previous": pageNumber > 1 ? .string(link(page: pageNumber - 1)) : .null,
            "next": pageNumber < pages ? .string(link(page: pageNumber + 1)) : .null,
            "freeStorage": .string(ByteSize(bytes: free).description),
        ])
    }

    /// Sets (`action=set`, with a size) or clears (`action=clear`) a user's override.
    static func saveOverride(_ context: RequestContext) throws -> Response {
        let form = context.formFields
        guard let userID = Int64(form["user_id"] ?? ""), userID > 0 else {
            throw HTTPError.badRequest("user_id must be a user's id.")
        }
        let back = LocalRedirect.sanitize(form["return_to"], fallback: "/admin/users/\(userID)")
        let store = context.stores.quotas
        switch form["action"] {
        case "clear":
            try store.setOverride(userID: userID, bytes: nil, by: AdminForms.actor(context))
            return AdminForms.saved(context, "Override cleared; the plan and purchases decide the quota again.", redirect: back)
        case "set":
            var errors = FieldErrors()
            guard let size = errors.capture("override", { try ByteSize.parse(form["override_number"] ?? "", unit: form["override_unit"] ?? "") }) else {
                return try AdminForms.invalid(context, errors) {
                    try AdminUserHandler.page(context, userID: userID, errors: errors,
                                              overrideValue: AdminForms.size("override", posted: context))
                }
            }
            do {
                try store.setOverride(userID: userID, bytes: size.bytes, by: AdminForms.actor(context))
            } catch let error as ValidationError {
                throw HTTPError(.notFound, code: "not_found", error.message)
            }
            return AdminForms.saved(context, "Quota override set to \(size).", redirect: back)
        default:
            throw HTTPError.badRequest("action must be set or clear.")
        }
    }

    static func row(_ q: UserQuota) -> TemplateValue {
        let percent = q.usage.isInfinite ? 100 : min(100, Int((q.usage * 100).rounded()))
        return [
            "id": .int(q.userID), "email": .string(q.email), "name": .string(q.name),
            "plan": q.planName.map { .string($0) } ?? .null,
            "planAllowance": .string(q.planStorageBytes.map { ByteSize(bytes: $0).description } ?? "free storage"),
            "extra": .string(ByteSize(bytes: q.purchasedExtraBytes).description),
            "override": q.overrideBytes.map { .string(ByteSize(bytes: $0).description) } ?? .null,
            "effective": .string(ByteSize(bytes: q.effectiveBytes).description),
            "used": .string(ByteSize(bytes: q.usedBytes).description),
            "percent": .int(Int64(percent)),
            "percentText": .string(q.usage.isInfinite ? "over" : "\(Int((q.usage * 100).rounded())) %"),
            "over": .bool(q.isOver), "near": .bool(q.isNear),
        ]
    }
}
