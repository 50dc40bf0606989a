import Intake
import Web

/// `GET /p/:slug/receipt?r=…`: the receipt again, as it stands now (the files' tokens in `r`,
/// at most 100; each must be a file of this portal).
enum ReceiptShow {
    static func handle(_ context: RequestContext) throws -> Response {
        let portal = try context.publicPortal()
        let tokens = try context.request.query().values("r").prefix(100)
        let entries = try tokens.compactMap { try ReceiptEntry.find(context, token: $0, portalID: portal.id) }
        guard !entries.isEmpty else { throw HTTPError(.notFound, code: "not_found", "There is no such receipt.") }
        return try ReceiptPage.render(context, portal, entries)
    }
}
