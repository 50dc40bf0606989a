import Intake
import Templates
import Web

/// `portal/receipt`: what a client sent through a portal, with a link to check again while any
/// file is still on its way to the owner's storage.
enum ReceiptPage {
    static func render(_ context: RequestContext, _ portal: Portal, _ entries: [ReceiptEntry]) throws -> Response {
        let pending = entries.contains { !$0.described.final }
        let again = "/p/\(URLEncodedForm.encode(portal.slug))/receipt?" + entries.map { "r=" + URLEncodedForm.encode($0.token) }.joined(separator: "&")
        return try PageView.render(context, "portal/receipt", title: "Received", [
            "portal": ["name": .string(portal.name), "slug": .string(portal.slug), "brand": PortalBrandView.model(portal)],
            "files": .list(entries.map { e in
                ["name": .string(e.name), "size": .string(ByteSize(bytes: e.size).description), "sha256": .string(String(e.sha256.prefix(16))),
                 "status": .string(e.described.text), "receipt": .string(e.token)]
            }),
            "pending": .bool(pending), "checkAgain": .string(again), "link": .string(siteAddress(context) + again),
        ])
    }

    /// The site's address without a final slash, for a link the client keeps.
    static func siteAddress(_ context: RequestContext) -> String {
        var base = context.services.configuration.baseURL
        while base.hasSuffix("/") { base.removeLast() }
        return base
    }
}
