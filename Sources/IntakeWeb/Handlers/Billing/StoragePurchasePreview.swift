import Intake
import Web

/// `GET /dashboard/storage/purchase?gb=N`: the confirm step, computed on the server (it works
/// without JavaScript): what `gb` costs, from which balance, what is left, the quota after and
/// the expiry, with the Confirm form. A bad amount is the storage page again with the field's
/// message (422); nothing for sale, the page saying so (409).
enum StoragePurchasePreview {
    static func handle(_ context: RequestContext) throws -> Response {
        let form = StoragePurchaseForm(try context.request.query())
        var errors = FieldErrors()
        do {
            guard let gb = errors.capture("gb", form.gb) else {
                return try StoragePage.render(context, gbText: form.gbText, errors: errors, status: .unprocessableContent)
            }
            guard let quote = try StorageOffer.load(context).quote(gb: gb) else {
                return try StoragePage.render(context, gbText: form.gbText, formError: StorageOffer.notForSale, status: .conflict)
            }
            return try StoragePurchaseConfirmPage.render(context, quote: quote)
        } catch PurchaseRefusal.invalidAmount(let message) {
            errors["gb"] = message
            return try StoragePage.render(context, gbText: form.gbText, errors: errors, status: .unprocessableContent)
        }
    }
}
