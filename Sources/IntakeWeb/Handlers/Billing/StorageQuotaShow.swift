import Web

/// `GET /dashboard/storage[?gb=N]`: the user's storage page; `gb` fills the purchase form again
/// (the confirm step's "Change the amount" link).
enum StorageQuotaShow {
    static func handle(_ context: RequestContext) throws -> Response {
        try StoragePage.render(context, gbText: String((try context.request.query()["gb"] ?? "").prefix(40)))
    }
}
