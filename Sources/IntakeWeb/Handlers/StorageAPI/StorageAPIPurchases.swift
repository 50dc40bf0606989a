import Web

/// `GET /api/v1/storage/purchases`: the user's purchases, newest first.
enum StorageAPIPurchases {
    static func handle(_ context: RequestContext) throws -> Response {
        .json(["purchases": .array(try context.stores.purchases.list(userID: context.user!.id).map(PurchaseJSON.purchase))])
    }
}
