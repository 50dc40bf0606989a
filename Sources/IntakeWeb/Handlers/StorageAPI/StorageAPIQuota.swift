import Web

/// `GET /api/v1/storage/quota`: used, quota and its parts (plan, purchases, override).
enum StorageAPIQuota {
    static func handle(_ context: RequestContext) throws -> Response {
        guard let quota = try context.stores.quotas.quota(userID: context.user!.id) else {
            throw HTTPError(.notFound, code: "not_found", "There is no such user.")
        }
        return .json(PurchaseJSON.quota(quota))
    }
}
