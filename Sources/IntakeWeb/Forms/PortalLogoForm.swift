import Intake
import Web

/// The portal logo form (`multipart/form-data`): the CSRF token first, the text alternative
/// and one image, read whole but bounded (a logo is small: the body may not pass the logo's
/// limit by more than the room its fields need, and the file is cut one byte past the limit so
/// the store names the size).
enum PortalLogoForm {
    struct Posted {
        var alt = ""
        var bytes: [UInt8] = []
    }

    /// Room for the token, the text alternative and part headers beside the image.
    static let fieldRoom = 16 * 1024

    static let limits = MultipartLimits(maxHeaderBytes: 4 * 1024, maxParts: 4, maxFieldBytes: 1024, maxHeaderLines: 8)

    static func read(_ context: RequestContext) throws -> Posted {
        guard let declared = context.request.body.declaredLength else {
            throw HTTPError(HTTPStatus(411, "Length Required"), code: "length_required", "Send the form with a Content-Length.")
        }
        guard declared <= Int64(PortalBranding.maxLogoBytes + fieldRoom) else {
            // Refused before the body is read; the token is not needed to say no.
            context.csrfInBody = false
            throw ValidationError("logo", "The logo is too large; use an image of at most \(ByteSize(bytes: Int64(PortalBranding.maxLogoBytes))).")
        }
        var parser = try MultipartParser(boundary: try MultipartParser.boundary(fromContentType: context.request.headers["content-type"]), limits: limits)
        var posted = Posted()
        var current: MultipartPart?
        var field: [UInt8] = []
        var parts = 0
        try parser.parse(context.request.body) { event in
            switch event {
            case .partBegin(let part):
                parts += 1
                if parts == 1, context.csrfInBody, part.isFile || part.name != CSRFProtection.fieldName {
                    throw CSRFProtection.failure("This form did not carry its token first, so nothing was changed. Reload the page and try again.")
                }
                current = part
                field = []
            case .body(let bytes):
                if current?.isFile == true, current?.name == "logo" {
                    if posted.bytes.count <= PortalBranding.maxLogoBytes { posted.bytes += bytes.prefix(PortalBranding.maxLogoBytes + 1 - posted.bytes.count) }
                } else {
                    field += bytes.prefix(1024 - min(field.count, 1024))
                }
            case .partEnd:
                guard let part = current, !part.isFile else { return }
                let text = String(decoding: field, as: UTF8.self)
                if part.name == CSRFProtection.fieldName, context.csrfInBody { try CSRFProtection.verifyField(text, context) }
                if part.name == "logo_alt" { posted.alt = text }
            }
        }
        if context.csrfInBody { throw CSRFProtection.failure("This form did not carry its token, so nothing was changed.") }
        return posted
    }
}
