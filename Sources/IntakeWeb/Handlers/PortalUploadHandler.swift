import Intake
import Templates
import Web

/// The public portal: `GET /p/:slug` (the page), `POST /p/:slug/password` (the password gate),
/// `POST /p/:slug/upload` (the plain form post, answered with a receipt page) and
/// `POST /api/upload` (the same for scripts, answered with JSON in the seed's shape).
enum PortalUploadHandler {
    static func portal(_ context: RequestContext, slug: String?) throws -> Portal {
        guard let slug, let portal = try context.stores.portals.find(slug: slug) else {
            throw HTTPError(.notFound, code: "not_found", "There is no upload portal at this address.")
        }
        return portal
    }

    static func acceptance(_ context: RequestContext, _ portal: Portal) throws -> StorageRules.Acceptance {
        let accounts = try context.stores.storageAccounts.list(userID: portal.userID)
            .map { StorageRules.Account(id: $0.id, provider: $0.provider, status: $0.status) }
        return StorageRules.acceptance(portalActive: portal.active, inactiveReason: portal.inactiveReason, portalAccountID: portal.storageAccountID,
                                       portalProvider: nil, accounts: accounts)
    }

    static func show(_ context: RequestContext) throws -> Response {
        let portal = try portal(context, slug: context.request.parameters["slug"])
        return try page(context, portal, token: nil, error: nil, status: .ok)
    }

    static func password(_ context: RequestContext) throws -> Response {
        let portal = try portal(context, slug: context.request.parameters["slug"])
        let store = context.stores.portals
        guard try store.verifyPassword(portalID: portal.id, password: context.formFields["password"] ?? "") else {
            return try page(context, portal, token: nil, error: "That password is not right.", status: .unauthorized)
        }
        let token = PortalAccess.token(portalID: portal.id, now: context.services.clock.now(), key: context.services.secretKey)
        return try page(context, portal, token: token, error: nil, status: .ok)
    }

    static func page(_ context: RequestContext, _ portal: Portal, token: String?, error: String?, status: HTTPStatus) throws -> Response {
        let services = context.services
        let owner = try services.stores.users.find(id: portal.userID)
        let accepts = try acceptance(context, portal)
        let needsPassword = portal.hasPassword && token == nil
        let maxFile = try services.stores.portals.fileLimit(of: portal)
        func mode(_ m: FieldMode) -> TemplateValue { ["required": .bool(m == .required), "shown": .bool(m != .hidden)] }
        return try PageView.render(context, "portal/show", title: portal.name, status: status, [
            "portal": ["name": .string(portal.name), "slug": .string(portal.slug), "description": .string(portal.description),
                       "owner": .string(owner?.name ?? ""), "id": .int(portal.id), "maxFiles": .int(Int64(portal.maxFiles)),
                       "maxFile": .string(ByteSize(bytes: maxFile).description), "maxFileBytes": .int(maxFile),
                       "resumableThreshold": .int(context.services.configuration.tusThresholdBytes),
                       "resumableChunk": .int(context.services.configuration.tusChunkBytes),
                       "accept": .string(portal.allowedExtensions.sorted().map { "." + $0 }.joined(separator: ",")),
                       "types": .string(portal.allowedExtensions.isEmpty ? "" : portal.allowedExtensions.sorted().map { "." + $0 }.joined(separator: ", ")),
                       "clientName": mode(portal.clientNameMode), "clientEmail": mode(portal.clientEmailMode), "message": .bool(portal.messageField)],
            "closed": accepts.accepts ? .null : .string(accepts.clientMessage ?? "This portal cannot accept uploads right now."),
            "needsPassword": .bool(needsPassword && accepts.accepts),
            "canUpload": .bool(accepts.accepts && !needsPassword),
            "token": .string(token ?? ""),
            "error": error.map { .string($0) } ?? .null,
        ])
    }

    /// The plain form post: a receipt page, or the portal page again with the message.
    static func formUpload(_ context: RequestContext) throws -> Response {
        let portal = try portal(context, slug: context.request.parameters["slug"])
        do {
            let files = try receive(context, expectedPortal: portal)
            return try ReceiptHandler.page(context, portal, ReceiptHandler.entries(files))
        } catch let refusal as UploadRefusal {
            return try page(context, portal, token: nil, error: refusal.message, status: refusal.status)
        }
    }

    /// `POST /api/upload`: `{"success":true,"uploadId":…,"fileName":…,"storageProvider":…}` for
    /// the first file, and `files` with every file.
    static func apiUpload(_ context: RequestContext) throws -> Response {
        let files = try receive(context, expectedPortal: nil)
        guard let first = files.first else { throw HTTPError.badRequest("The form had no file.", code: "no_file") }
        return .json([
            "success": true, "uploadId": .string(String(first.uploadID)), "fileName": .string(first.fileName),
            "storageProvider": .string(first.provider.rawValue),
            "files": .array(files.map { ["uploadId": .string(String($0.uploadID)), "fileName": .string($0.fileName), "size": .int($0.size),
                                         "sha256": .string($0.sha256), "status": .string($0.status),
                                         "receipt": .string($0.receipt)] }),
        ])
    }

    /// Form fields a request may carry besides its files (the client's, the token, the portal,
    /// and room for a browser's extras): with the portal's files, the most parts a body may have.
    static let fieldPartsAllowed = 16

    /// The multipart bounds of an upload request: part headers as a browser sends them (a few
    /// lines, far below 8 KiB), and no more parts than the most files a portal takes plus fields.
    static let multipartLimits = MultipartLimits(maxHeaderBytes: 8 * 1024, maxParts: 1000 + fieldPartsAllowed, maxFieldBytes: 64 * 1024,
                                                 maxHeaderLines: 8)

    /// Streams the multipart body through the parser into an upload session: fields first
    /// (the CSRF token first of all when it did not come as a header), then the files. Whatever
    /// can be refused without the body — no token cookie, a body larger than the portal could
    /// take, a first part that is not the token — is refused before more of it is read.
    static func receive(_ context: RequestContext, expectedPortal: Portal?) throws -> [ReceivedFile] {
        let request = context.request
        guard let declared = request.body.declaredLength else {
            throw HTTPError(HTTPStatus(411, "Length Required"), code: "length_required", "Send the upload with a Content-Length.")
        }
        let env = context.services.uploadEnvironment()
        // Checked once the request has shown its token (at once when it came as a header).
        func checkExpectedPortal() throws {
            if let expectedPortal { try UploadPipeline(env: env, portal: expectedPortal, remoteAddress: request.remoteAddress).checkDeclaredLength(declared) }
        }
        if !context.csrfInBody { try checkExpectedPortal() }
        var parser = try MultipartParser(boundary: try MultipartParser.boundary(fromContentType: request.headers["content-type"]),
                                         limits: multipartLimits)
        var portal = expectedPortal
        var parts = 0
        var session: UploadSession?
        var fields: [(String, String)] = []
        var fieldName: String?
        var fieldBytes: [UInt8] = []
        var inFile = false
        defer { session?.abort() }

        // `POST /api/upload` names its portal in a field: as soon as it has arrived, what the
        // portal cannot take is refused, before the files are read.
        func resolvePortal() throws {
            guard portal == nil else { return }
            guard let id = fields.last(where: { $0.0 == "portalId" }).flatMap({ Int64($0.1) }),
                  let found = try context.stores.portals.find(id: id) else {
                throw HTTPError(.notFound, code: "not_found", "There is no such portal (send portalId before the files).")
            }
            try UploadPipeline(env: env, portal: found, remoteAddress: request.remoteAddress).checkDeclaredLength(declared)
            portal = found
        }

        func openSession() throws -> UploadSession {
            if let session { return session }
            if context.csrfInBody { try CSRFProtection.verifyField(fields.last { $0.0 == CSRFProtection.fieldName }?.1, context) }
            try resolvePortal()
            let made = UploadSession(env: env, portal: portal!, declaredLength: declared, remoteAddress: request.remoteAddress)
            for (name, value) in fields where name != CSRFProtection.fieldName { try made.field(name, value) }
            session = made
            return made
        }

        try parser.parse(request.body) { event in
            switch event {
            case .partBegin(let part):
                parts += 1
                if parts == 1, context.csrfInBody, part.isFile || part.name != CSRFProtection.fieldName {
                    throw CSRFProtection.failure("This form did not carry its token first, so nothing was uploaded. Reload the page and try again.")
                }
                if let portal, parts > portal.maxFiles + fieldPartsAllowed {
                    throw HTTPError(.payloadTooLarge, code: "too_many_parts",
                                    "This upload has more parts than the portal takes (at most \(portal.maxFiles) files and a few fields).")
                }
                if part.isFile {
                    inFile = true
                    guard !(part.filename ?? "").isEmpty else { inFile = false; fieldName = nil; return }  // an empty file input
                    try openSession().beginFile(name: part.filename ?? "file", contentType: part.contentType)
                } else {
                    inFile = false
                    fieldName = part.name
                    fieldBytes.removeAll(keepingCapacity: true)
                }
            case .body(let bytes):
                if inFile { try session?.fileChunk(bytes) } else { fieldBytes.append(contentsOf: bytes) }
                if parts == 1, context.csrfInBody, fieldBytes.count > CSRFProtection.maxFieldBytes {
                    throw CSRFProtection.failure("This form's token is not valid, so nothing was uploaded. Reload the page and try again.")
                }
            case .partEnd:
                if inFile {
                    try session?.endFile()
                } else if let name = fieldName {
                    guard let value = String(validating: fieldBytes, as: UTF8.self) else {
                        throw HTTPError.badRequest("The field \(name) is not valid UTF-8.")
                    }
                    if parts == 1, context.csrfInBody {
                        try CSRFProtection.verifyField(value, context)
                        try checkExpectedPortal()
                    }
                    if let session { try session.field(name, value) } else { fields.append((name, value)) }
                    if name == "portalId", session == nil { try resolvePortal() }
                }
                inFile = false
                fieldName = nil
            }
        }
        guard let session else {
            if context.csrfInBody { try CSRFProtection.verifyField(fields.last { $0.0 == CSRFProtection.fieldName }?.1, context) }
            throw UploadRefusal(.invalid, "Choose at least one file.")
        }
        try session.finish()
        return session.received
    }
}
