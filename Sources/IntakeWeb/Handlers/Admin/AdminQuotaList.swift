import Intake
import Templates
import Web

/// `GET /admin/storage/quotas?q=&filter=&sort=&after=`: users with their quotas, searchable,
/// filterable (over, near), sortable, 50 to a page (`after`: the next page's cursor).
enum AdminQuotaList {
    /// Rows to a page.
    static let pageSize = 50

    static func handle(_ context: RequestContext) throws -> Response {
        let query = try context.request.query()
        let search = String((query["q"] ?? "").prefix(100))
        let filter = QuotaStore.Filter(rawValue: query["filter"] ?? "all") ?? .all
        let sort = QuotaStore.Sort(rawValue: query["sort"] ?? "email") ?? .email
        var cursor: PageCursor?
        if let text = query["after"], !text.isEmpty {
            guard let parsed = PageCursor(text) else {
                throw HTTPError.badRequest("That page link is not one this list gave; start again from the first page.")
            }
            cursor = parsed
        }
        let free = try context.stores.pricing.current().freeStorageBytes
        let (rows, total, next) = try context.stores.quotas
            .page(search: search, filter: filter, sort: sort, after: cursor, pageSize: pageSize)
        func link(after: PageCursor?) -> String {
            var parts = ["filter=\(filter.rawValue)", "sort=\(sort.rawValue)"]
            if let after { parts.append("after=" + URLEncodedForm.encode(after.description)) }
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
            "rows": .list(rows.map(UserQuotaRow.value)),
            "hasRows": .bool(!rows.isEmpty),
            "total": .string(total > context.stores.quotas.countLimit ? "More than \(context.stores.quotas.countLimit) users" : Counted.text(total, "user")),
            "first": cursor != nil ? .string(link(after: nil)) : .null,
            "next": next.map { .string(link(after: $0)) } ?? .null,
            "freeStorage": .string(ByteSize(bytes: free).description),
        ])
    }
}
