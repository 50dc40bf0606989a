import Intake
import Templates
import Web

/// `GET /admin/storage/quotas?q=&filter=&sort=&page=`: users with their quotas, searchable,
/// filterable (over, near), sortable, 50 to a page.
enum AdminQuotaList {
    /// Rows to a page.
    static let pageSize = 50

    static func handle(_ context: RequestContext) throws -> Response {
        let query = try context.request.query()
        let search = String((query["q"] ?? "").prefix(100))
        let filter = QuotaStore.Filter(rawValue: query["filter"] ?? "all") ?? .all
        let sort = QuotaStore.Sort(rawValue: query["sort"] ?? "email") ?? .email
        let pageNumber = max(1, min(Int(query["page"] ?? "1") ?? 1, 100_000))
        let free = try context.stores.pricing.current().freeStorageBytes
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
            "rows": .list(rows.map(UserQuotaRow.value)),
            "hasRows": .bool(!rows.isEmpty),
            "total": .int(Int64(total)),
            "pageNumber": .int(Int64(pageNumber)),
            "pages": .int(Int64(pages)),
            "previous": pageNumber > 1 ? .string(link(page: pageNumber - 1)) : .null,
            "next": pageNumber < pages ? .string(link(page: pageNumber + 1)) : .null,
            "freeStorage": .string(ByteSize(bytes: free).description),
        ])
    }
}
