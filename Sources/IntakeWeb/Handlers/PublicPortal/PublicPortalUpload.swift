import Intake
import Web

/// `POST /p/:slug/upload`: the plain form post, answered with a receipt page, or the portal page
/// again with the refusal's message and status.
enum PublicPortalUpload {
    static func handle(_ context: RequestContext) throws -> Response {
        let portal = try context.publicPortal()
        do {
            let files = try PortalUploadForm.receive(context, expectedPortal: portal)
            return try ReceiptPage.render(context, portal, files.map(ReceiptEntry.init))
        } catch let refusal as UploadRefusal {
            return try PortalPage.render(context, portal, token: nil, error: refusal.message, status: refusal.status)
        }
    }
}
