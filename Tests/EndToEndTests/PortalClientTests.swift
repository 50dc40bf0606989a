import Database
import Foundation
import Testing
import TestSupport

/// The client's side of a portal through nginx: any type on an open portal, a narrowed portal
/// refusing what its content contradicts, the owner's narrowing and branding through the form and
/// the API (with their errors), and the logo served inert.
@Suite("The client's side of a portal", .serialized, .enabled(if: integrationEnabled, "set INTAKE_INTEGRATION=1 (scripts/test does)"))
struct PortalClientTests {
    static let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52]
    static let exe: [UInt8] = [0x4D, 0x5A, 0x90, 0x00, 0x03, 0x00, 0x00, 0x00, 0x04, 0x00]

    /// `PUT /api/portals/1` as the owner's script.
    func put(_ owner: WebSession, _ server: IntakeTestServer, _ json: String) throws -> HTTPResult {
        try HTTPClient.request(port: server.port, method: "PUT", path: "/api/portals/1",
                               headers: [("Cookie", "intake_session=\(owner.cookies["intake_session"]!)"), ("X-CSRF-Token", owner.csrfToken!),
                                         ("Content-Type", "application/json"), ("Accept", "application/json")], body: Array(json.utf8))
    }

    @Test("an open portal takes any type and names without an extension; narrowed to documents it refuses a renamed program with the message, and takes a PNG named .jpg once images are allowed")
    func types() throws {
        let site = try DemoSite()
        let (server, owner) = (site.server, site.owner)
        defer { server.stop() }
        for (name, bytes) in [("clip.mp4", [0, 0, 0, 0x18] + Array("ftypisom".utf8)), ("design.psd", Array("8BPS".utf8)), ("README", Array("hi\n".utf8))] {
            let answer = try site.upload([(name, bytes)])
            #expect(answer.status == 200 && answer.text.contains(#""success":true"#), "\(name): \(answer.text)")
        }
        #expect(try owner.get("/p/demo").text.contains("Any type of file."))

        try owner.get("/dashboard/portals/1")
        #expect(try put(owner, server, #"{"allowedFamilies":["documents"]}"#).status == 200)
        let page = try owner.get("/p/demo").text
        #expect(page.contains("Accepted: documents.") && page.contains(#"data-accept="csv,doc,"#) && page.contains("Documents: .pdf, .docx"))
        let renamed = try site.upload([("invoice.pdf", Self.exe)])
        #expect(renamed.status == 400 && renamed.text.contains(#""code":"file_type""#))
        #expect(renamed.text.contains("“invoice.pdf” is really a Windows program, which this portal does not accept (it accepts documents)."))
        let video = try site.upload([("clip.mp4", [0, 0, 0, 0x18] + Array("ftypisom".utf8))])
        #expect(video.status == 400 && video.text.contains(".mp4 files are not accepted here. This portal accepts documents."))
        #expect(try site.upload([("photo.jpg", Self.png)]).status == 400, "not an image portal yet")

        #expect(try put(owner, server, #"{"allowedFamilies":["documents","images"]}"#).status == 200)
        #expect(try site.upload([("photo.jpg", Self.png)]).status == 200, "a PNG named .jpg is an image")
        let db = try server.openDatabase()
        #expect(try db.scalar("SELECT count(*) FROM file_uploads", as: Int.self) == 4)
        #expect(try db.scalar("SELECT count(*) FROM file_uploads WHERE file_name = 'invoice.pdf'", as: Int.self) == 0)
    }

    @Test("the portal form and the API narrow by family and extension and set the colour, with an error beside each bad field")
    func settings() throws {
        let site = try DemoSite()
        let (server, owner) = (site.server, site.owner)
        defer { server.stop() }
        try owner.get("/dashboard/portals/1")
        let base = [("name", "Demo uploads"), ("slug", "demo"), ("storage_account_id", "1"), ("max_files", "20")]
        let bad = try owner.post("/dashboard/portals/1", form: base + [("allowed_families", "video"), ("allowed_types", "dwg, tar.gz"), ("accent_color", "blue")])
        #expect(bad.status == 422)
        #expect(bad.text.contains("“tar.gz”: give the last part only (for .tar.gz write gz).") && bad.text.contains("Give a colour as # and six hexadecimal digits"))
        #expect(bad.text.contains(#"value="dwg, tar.gz""#) && bad.text.contains(#"id="family-video" name="allowed_families" type="checkbox" value="video" checked"#),
                "what was typed and ticked is kept")
        try owner.get("/dashboard/portals/1")
        let good = try owner.post("/dashboard/portals/1", form: base + [("allowed_families", "video"), ("allowed_families", "audio"),
                                                                        ("allowed_types", ".DWG *.step"), ("accent_color", "#FFCC00")])
        #expect(good.status == 303)
        let json = try owner.get("/api/portals/1", headers: [("Accept", "application/json")]).text
        #expect(json.contains(##""allowedTypes":["dwg","step"],"allowedFamilies":["video","audio"],"accentColor":"#ffcc00","hasLogo":false"##))
        let css = try owner.get("/p/demo/theme.css").text
        #expect(css.contains("--brand: #ffcc00;") && css.contains("--brand-ink: #000000;"), "dark text on a light accent")

        try owner.get("/dashboard/portals/1")
        let refused = try put(owner, server, ##"{"allowedFamilies":["documents","spreadsheets"],"accentColor":"#12345"}"##)
        #expect(refused.status == 422 && refused.text.contains(#""allowedFamilies":"“spreadsheets” is not a family"#))
        let colour = try put(owner, server, ##"{"accentColor":"#12345"}"##)
        #expect(colour.status == 422 && colour.text.contains(#""accentColor":"Give a colour"#))
        let cleared = try put(owner, server, #"{"allowedFamilies":[],"allowedTypes":[],"accentColor":null}"#)
        #expect(cleared.status == 200 && cleared.text.contains(#""allowedTypes":[],"allowedFamilies":[],"accentColor":null"#))
    }

    @Test("branding: a logo checked by its bytes and served inert, the welcome text escaped with https links")
    func branding() throws {
        let site = try DemoSite()
        let (server, owner) = (site.server, site.owner)
        defer { server.stop() }
        try owner.get("/dashboard/portals/1")
        func postLogo(_ name: String, _ bytes: [UInt8], alt: String) throws -> HTTPResult {
            let boundary = "----logo\(UInt32.random(in: 0...UInt32.max))"
            return try HTTPClient.request(port: server.port, method: "POST", path: "/dashboard/portals/1/logo",
                                          headers: [("Cookie", owner.cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; ")),
                                                    ("Content-Type", "multipart/form-data; boundary=\(boundary)")],
                                          body: Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n\(owner.csrfToken!)\r\n".utf8)
                                              + Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"logo_alt\"\r\n\r\n\(alt)\r\n".utf8)
                                              + Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"logo\"; filename=\"\(name)\"\r\n\r\n".utf8)
                                              + bytes + Array("\r\n--\(boundary)--\r\n".utf8))
        }
        let notImage = try postLogo("logo.png", Self.exe, alt: "Acme")
        #expect(notImage.status == 422 && notImage.text.contains("The logo must be a PNG, JPEG or WebP image; this file is not one."))
        let tooLarge = try postLogo("logo.png", Self.png + [UInt8](repeating: 0, count: 300 * 1024), alt: "Acme")
        #expect(tooLarge.status == 422 && tooLarge.text.contains("The logo is too large"))
        #expect(try postLogo("logo.png", Self.png, alt: "Acme & Co").status == 303)

        try owner.get("/dashboard/portals/1")
        let saved = try owner.post("/dashboard/portals/1", form: [("name", "Demo uploads"), ("slug", "demo"), ("storage_account_id", "1"), ("max_files", "20"),
                                                                  ("description", "Hello <script>alert(1)</script>\n\nSee https://example.com/help.")])
        #expect(saved.status == 303)
        let page = try server.session().get("/p/demo").text
        #expect(page.contains("Hello &lt;script&gt;alert(1)&lt;/script&gt;") && !page.contains("<script>alert(1)"))
        #expect(page.contains(#"<p>See <a href="https://example.com/help" rel="noopener noreferrer">https://example.com/help</a>.</p>"#))
        #expect(page.contains(#"alt="Acme &amp; Co""#) && page.contains(#"<img src="/p/demo/logo?v="#))

        let logo = try HTTPClient.request(port: server.port, method: "GET", path: "/p/demo/logo", headers: [], body: [])
        #expect(logo.status == 200 && logo.body == Self.png)
        #expect(logo.headers["content-type"] == "image/png" && logo.headers["x-content-type-options"] == "nosniff")
        #expect(logo.headers["content-security-policy"]?.contains("sandbox") == true)
        try owner.get("/dashboard/portals/1")
        #expect(try owner.post("/dashboard/portals/1/logo/delete", form: []).status == 303)
        #expect(try HTTPClient.request(port: server.port, method: "GET", path: "/p/demo/logo", headers: [], body: []).status == 404)
    }
}
