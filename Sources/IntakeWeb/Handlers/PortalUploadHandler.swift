import Intake
import Templates
import Web

/// The public portal: `GET /p/:slug` (the page), `POST /p/:slug/password` (the password gate),
/// `POST /p/:slug/upload` (the plain form post, answered with a receipt page) and
/// `POST /api/upload` (the same for scripts, answered with JSON in the seed's shape).
enum PortalUploadHandler {
    static func portal(_ context: RequestContext, slug: String?) throws -> Portal {
        guard let slug, let portal = try PortalStore(db: context.services.database, clock: context.services.clock).find(slug: slug) else {
            throw HTTPError(.notFound, code: "not_found", "There is no upload portal at this address.")
        }
        return portal
    }

    static func acceptance(_ context: RequestContext, _ portal: Portal) throws -> StorageRules.Acceptance {
        let accounts = try StorageAccountStore(db: context.services.database, clock: context.services.clock).list(userID: portal.userID)
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
        let store = PortalStore(db: context.services.database, clock: context.services.clock)
        guard try store.verifyPassword(portalID: portal.id, password: context.formFields["password"] ?? "") else {
            return try page(context, portal, token: nil, error: "That password is not right.", status: .unauthorized)
        }
        let token = PortalAccess.token(portalID: portal.id, now: context.services.clock.now(), key: context.services.secretKey)
        return try page(context, portal, token: token, error: nil, status: .ok)
    }

    static func page(_ context: RequestContext, _ portal: Portal, token: String?, error: String?, status: HTTPStatus) throws -> Response {
        let services = context.services
        let owner = try services.users.find(id: portal.userID)
        let accepts = try acceptance(context, portal)
        let needsPassword = portal.hasPassword && token == nil
        func mode(_ m: FieldMode) -> TemplateValue { ["required": .bool(m == .required), "shown": .bool(m != .hidden)] }
        return try PageView.render(context, "portal/show", title: portal.name, status: status, [
            "portal": ["name": .string(portal.name), "slug": .string(portal.slug), "description": .string(portal.description),
                       "owner": .string(owner?.name ?? ""), "id": .int(portal.id), "maxFiles": .int(Int64(portal.maxFiles)),
                       "maxFile": .string(ByteSize(bytes: portal.maxFileBytes ?? PortalRules.defaultMaxFileBytes).description),
                       "maxFileBytes": .int(portal.maxFileBytes ?? PortalRules.defaultMaxFileBytes),
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
            return try page(context, portal, token: nil, error: refusal.message, status: status(refusal.kind))
        }
    }

    /// `POST /api/upload`: `{"success":true,"uploadId":…,"fileName":…,"storageProvider":…}` for
    /// the first file, and `files` with every file.
    static func apiUpload(_ context: RequestContext) throws -> Response {
        do {
            let files = try receive(context, expectedPortal: nil)
            guard let first = files.first else { throw HTTPError.badRequest("The form had no file.", code: "no_file") }
            return .json([
                "success": true, "uploadId": .string(String(first.uploadID)), "fileName": .string(first.fileName),
                "storageProvider": .string(first.provider.rawValue),
                "files": .array(files.map { ["uploadId": .string(String($0.uploadID)), "fileName": .string($0.fileName), "size": .int($0.size),
                                             "sha256": .string($0.sha256), "status": .string($0.status),
                                             "receipt": .string($0.receipt)] }),
            ])
        } catch let refusal as UploadRefusal {
            throw HTTPError(status(refusal.kind), code: code(refusal.kind), refusal.message)
        }
    }

    static func status(_ kind: UploadRefusal.Kind) -> HTTPStatus {
        switch kind {
        case .closed, .scannerDown: return .serviceUnavailable
        case .password: return .forbidden
        case .invalid, .type: return .badRequest
        case .tooLarge, .overQuota: return .payloadTooLarge
        case .infected: return .unprocessableContent
        case .storage: return HTTPStatus(502, "Bad Gateway")
        case .tooMany: return HTTPStatus(429, "Too Many Requests")
        }
    }

    static func code(_ kind: UploadRefusal.Kind) -> String {
        switch kind {
        case .closed: return "portal_closed"
        case .password: return "password_required"
        case .invalid: return "invalid"
        case .type: return "file_type"
        case .tooLarge: return "file_too_large"
        case .overQuota: return "quota_exceeded"
        case .infected: return "infected"
        case .scannerDown: return "scanner_unavailable"
        case .storage: return "storage_failed"
        case .tooMany: return "too_many_uploads"
        }
    }

    /// Streams the multipart body through the parser into an upload session: fields first
    /// (the CSRF token among them when it did not come as a header), then the files.
    static func receive(_ context: RequestContext, expectedPortal: Portal?) throws -> [ReceivedFile] {
        let request = context.request
        guard let declared = request.body.declaredLength else {
            throw HTTPError(HTTPStatus(411, "Length Required"), code: "length_required", "Send the upload with a Content-Length.")
        }
        var parser = try MultipartParser(boundary: try MultipartParser.boundary(fromContentType: request.headers["content-type"]),
                                         limits: MultipartLimits(maxHeaderBytes: 16 * 1024, maxParts: 1100, maxFieldBytes: 64 * 1024))
        var portal = expectedPortal
        var session: UploadSession?
        var fields: [(String, String)] = []
        var fieldName: String?
        var fieldBytes: [UInt8] = []
        var inFile = false
        let env = context.services.uploadEnvironment()
        defer { session?.abort() }

        func openSession() throws -> UploadSession {
            if let session { return session }
            if context.csrfInBody { try CSRFProtection.verifyField(fields.last { $0.0 == CSRFProtection.fieldName }?.1, context) }
            if portal == nil {
                guard let id = fields.last(where: { $0.0 == "portalId" }).flatMap({ Int64($0.1) }),
                      let found = try PortalStore(db: env.db, clock: env.clock).find(id: id) else {
                    throw HTTPError(.notFound, code: "not_found", "There is no such portal (send portalId before the files).")
                }
                portal = found
            }
            let made = UploadSession(env: env, portal: portal!, declaredLength: declared, remoteAddress: request.remoteAddress)
            for (name, value) in fields where name != CSRFProtection.fieldName { try made.field(name, value) }
            session = made
            return made
        }

        try parser.parse(request.body) { event in
            switch event {
            case .partBegin(let part):
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
            case .partEnd:
                if inFile {
                    try session?.endFile()
                } else if let name = fieldName {
                    guard let value = String(validating: fieldBytes, as: UTF8.self) else {
                        throw HTTPError.badRequest("The field \(name) is not valid UTF-8.")
                    }
                    if let session { try session.field(name, value) } else { fields.append((name, value)) }
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
