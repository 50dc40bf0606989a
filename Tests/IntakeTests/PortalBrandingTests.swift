import Testing
@testable import Intake

@Suite("Portal branding")
struct PortalBrandingTests {
    @Test("accent colours: #rrggbb kept lower-cased, #rgb widened, anything else refused", arguments: [
        ("#1A5FB4", "#1a5fb4"), ("1a5fb4", "#1a5fb4"), ("#fc0", "#ffcc00"), ("", nil), ("  ", nil),
    ] as [(String, String?)])
    func accent(raw: String, stored: String?) throws {
        #expect(try PortalBranding.accentColor(raw) == stored)
    }

    @Test("colours that are refused", arguments: ["blue", "#12345", "#1234567", "#gggggg", "rgb(1,2,3)"])
    func badAccent(raw: String) {
        #expect(throws: ValidationError("accent_color", "Give a colour as # and six hexadecimal digits, like #1a5fb4.")) { try PortalBranding.accentColor(raw) }
    }

    @Test("the text on any accent, and the accent as link colour on white, keep 4.5:1")
    func contrast() {
        var colours: [String] = []
        for r in stride(from: 0, through: 255, by: 51) {
            for g in stride(from: 0, through: 255, by: 51) {
                for b in stride(from: 0, through: 255, by: 51) { colours.append("#" + [r, g, b].map { String(format2($0)) }.joined()) }
            }
        }
        #expect(colours.count == 216)
        for accent in colours {
            #expect(PortalBranding.contrast(accent, PortalBranding.foreground(on: accent)) >= 4.5, "\(accent)")
            #expect(PortalBranding.contrast(PortalBranding.textColor(on: accent), "#ffffff") >= 4.5, "\(accent)")
        }
        #expect(PortalBranding.foreground(on: "#ffcc00") == "#000000" && PortalBranding.foreground(on: "#1a5fb4") == "#ffffff")
        #expect(PortalBranding.textColor(on: "#1a5fb4") == "#1a5fb4", "a dark accent is its own link colour")
    }

    private func format2(_ v: Int) -> String { let s = String(v, radix: 16); return s.count == 1 ? "0" + s : s }

    @Test("welcome text: paragraphs at blank lines, https addresses as links without trailing punctuation, nothing else")
    func welcome() {
        let text = "Hello <b>there</b>\nsecond line\n\n\n See https://example.com/a?b=1. And http://plain.example or https:// alone."
        #expect(PortalBranding.paragraphs(text) == [
            [.text("Hello <b>there</b> second line")],
            [.text("See "), .link("https://example.com/a?b=1"), .text(". And http://plain.example or https:// alone.")],
        ])
        #expect(PortalBranding.paragraphs(" \n\n ") == [])
    }

    @Test("a logo is a PNG, JPEG or WebP by its bytes, and small")
    func logo() throws {
        #expect(try PortalBranding.logoType([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0]) == "image/png")
        #expect(try PortalBranding.logoType([0xFF, 0xD8, 0xFF, 0xE0]) == "image/jpeg")
        #expect(try PortalBranding.logoType(Array("RIFF\u{0}\u{0}\u{0}\u{0}WEBPVP8 ".utf8)) == "image/webp")
        #expect(throws: ValidationError.self) { try PortalBranding.logoType(Array("<svg onload=alert(1)>".utf8)) }
        #expect(throws: ValidationError.self) { try PortalBranding.logoType(Array("GIF89a".utf8)) }
        #expect(throws: ValidationError.self) { try PortalBranding.logoType([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + [UInt8](repeating: 0, count: 256 * 1024)) }
    }
}
