import Intake
import Web

/// `GET /p/:slug/theme.css`: the owner's accent colour as the portal page's stylesheet (the
/// site's policy allows no inline style). The text colour on it is computed to keep 4.5:1, and
/// links use the accent darkened until they read on white.
enum PublicPortalTheme {
    static func handle(_ context: RequestContext) throws -> Response {
        let portal = try context.publicPortal()
        var css = "/* The portal's own colours: none set. */\n"
        if let accent = portal.accentColor {
            css = """
                .portal-themed {
                  --brand: \(accent);
                  --brand-ink: \(PortalBranding.foreground(on: accent));
                  --accent: \(PortalBranding.textColor(on: accent));
                }

                """
        }
        // The page names the sheet with the colour (`?c=`), so a change is a new address.
        return Response(status: .ok, headers: ["content-type": "text/css; charset=utf-8", "cache-control": "public, max-age=86400"],
                        body: .bytes(Array(css.utf8)))
    }
}
