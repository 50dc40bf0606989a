import Intake
import Web

/// The multipart body of an upload (`POST /p/:slug/upload` and `POST /api/upload`) read as it
/// streams in: the client's fields and the CSRF token, then each file straight into an upload
/// session, so memory stays flat whatever the size.
enum PortalUploadForm {
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
