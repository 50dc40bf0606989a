import Intake
import Templates
import Web

/// What a client sees of the files it sent, after the request: the receipt page (also reachable
/// again to check on deliveries still under way) and `GET /api/receipts/:token` for the portal
/// page's script. A receipt token names one file; it shows its name, size and delivery status,
/// never the owner's storage or a provider's error.
enum ReceiptHandler {
    /// A file's delivery status as the client should read it, and whether it can still change.
    static func describe(_ status: String) -> (text: String, final: Bool) {
        FileUploadStatus(rawValue: status)?.receiptText ?? (status, true)
    }

    struct Entry {
        let token: String
        let name: String
        let size: Int64
        let sha256: String
        let status: String
    }

    /// The receipt page for `entries` of `portal`, with a link to check again while any is on its way.
    static func page(_ context: RequestContext, _ portal: Portal, _ entries: [Entry]) throws -> Response {
        let pending = entries.contains { !describe($0.status).final }
        let again = "/p/\(URLEncodedForm.encode(portal.slug))/receipt?" + entries.map { "r=" + URLEncodedForm.encode($0.token) }.joined(separator: "&")
        return try PageView.render(context, "portal/receipt", title: "Received", [
            "portal": ["name": .string(portal.name), "slug": .string(portal.slug)],
            "files": .list(entries.map { e in
                ["name": .string(e.name), "size": .string(ByteSize(bytes: e.size).description), "sha256": .string(String(e.sha256.prefix(16))),
                 "status": .string(describe(e.status).text), "receipt": .string(e.token)]
            }),
            "pending": .bool(pending), "checkAgain": .string(again),
        ])
    }

    static func entries(_ files: [ReceivedFile]) -> [Entry] {
        files.map { Entry(token: $0.receipt, name: $0.fileName, size: $0.size, sha256: $0.sha256, status: $0.status) }
    }

    /// The file behind a token, if the token is genuine (and, given a portal, the file is its).
    static func lookup(_ context: RequestContext, token: String, portalID: Int64? = nil) throws -> Entry? {
        guard let file = try context.stores.files.find(receipt: token, key: context.services.secretKey),
              portalID == nil || file.portalID == portalID else { return nil }
        return Entry(token: token, name: file.fileName, size: file.size, sha256: file.sha256 ?? "", status: file.status)
    }

    /// `GET /p/:slug/receipt?r=…`: the receipt again, as it stands now.
    static func show(_ context: RequestContext) throws -> Response {
        let portal = try PortalUploadHandler.portal(context, slug: context.request.parameters["slug"])
        let tokens = try context.request.query().values("r").prefix(100)
        let entries = try tokens.compactMap { try lookup(context, token: $0, portalID: portal.id) }
        guard !entries.isEmpty else { throw HTTPError(.notFound, code: "not_found", "There is no such receipt.") }
        return try page(context, portal, entries)
    }

    /// `GET /api/receipts/:token`: `{"fileName":…,"status":…,"statusText":…,"final":…}`.
    static func api(_ context: RequestContext) throws -> Response {
        guard let entry = try lookup(context, token: context.request.parameters["token"] ?? "") else {
            throw HTTPError(.notFound, code: "not_found", "There is no such receipt.")
        }
        let described = describe(entry.status)
        var response = Response.json(["fileName": .string(entry.name), "status": .string(entry.status), "statusText": .string(described.text),
                                      "final": .bool(described.final)])
        response.headers.set("cache-control", "no-store")
        return response
    }
}
