import Testing
@testable import Intake

@Suite("Client file names")
struct ClientFileNameTests {
    @Test("hostile names keep only a safe last component", arguments: [
        ("report.pdf", "report.pdf"),
        ("../../../../etc/kit-pass.txt", "kit-pass.txt"),
        ("/etc/passwd", "passwd"),
        ("C:\\Users\\ada\\Desktop\\tax return.pdf", "tax return.pdf"),
        ("..%2F..%2Fetc%2Fpasswd", "..%2F..%2Fetc%2Fpasswd"),       // percent-encoding is text here, never a path
        ("%2e%2e", "%2e%2e"),
        ("invoice\u{202E}fdp.exe", "invoicefdp.exe"),                 // the right-to-left override that shows exe.pdf
        ("a\u{2066}b\u{200F}c\u{FEFF}.txt", "abc.txt"),
        ("evil\r\nX-Injected: yes.txt", "evilX-Injected: yes.txt"),
        ("tab\there\u{0}.txt", "tabhere.txt"),
        ("  spaced.txt  ", "spaced.txt"),
        ("trailing dots...", "trailing dots"),
        ("folder/", "folder"),
        ("naïve résumé.pdf", "naïve résumé.pdf"),
    ])
    func clean(raw: String, expected: String) {
        #expect(ClientFileName.clean(raw) == expected)
    }

    @Test("nothing left: a generated name", arguments: ["", "..", "../..", "/", "\u{202E}", " . ", "\r\n"])
    func generated(raw: String) {
        let name = ClientFileName.clean(raw)
        #expect(name.hasPrefix("upload-") && name.count == 15, "\(name)")
    }

    @Test("300 characters are cut to 255 bytes, keeping the extension, on a character boundary")
    func long() {
        let name = ClientFileName.clean(String(repeating: "a", count: 300) + ".pdf")
        #expect(name.utf8.count == 255 && name.hasSuffix(".pdf"))
        let wide = ClientFileName.clean(String(repeating: "é", count: 200) + ".txt")
        #expect(wide.utf8.count <= 255 && wide.hasSuffix(".txt") && wide.dropLast(4).allSatisfy { $0 == "é" })
    }
}
