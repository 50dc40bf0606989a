import Intake
@testable import IntakeWeb
import Testing

@Suite("Previews: which files the browser may show")
struct PreviewKindTests {
    @Test("a candidate by its name's extension, else by its recorded type; a bare name is no extension")
    func candidates() {
        #expect(PreviewKind.candidate(fileName: "Scan.JPEG", contentType: nil) == .jpeg)
        #expect(PreviewKind.candidate(fileName: "paper.pdf", contentType: "text/plain") == .pdf)
        #expect(PreviewKind.candidate(fileName: "upload-1", contentType: "image/webp") == .webp)
        #expect(PreviewKind.candidate(fileName: "pdf", contentType: nil) == nil)
        #expect(PreviewKind.candidate(fileName: "drawing.svg", contentType: "image/svg+xml") == nil)
    }

    @Test("shown only when the first bytes are the format's signature")
    func signatures() {
        #expect(PreviewKind.recognise([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D]) == .png)
        #expect(PreviewKind.recognise([0xFF, 0xD8, 0xFF, 0xE0]) == .jpeg)
        #expect(PreviewKind.recognise(Array("GIF89a".utf8)) == .gif)
        #expect(PreviewKind.recognise(Array("RIFF\u{0}\u{0}\u{0}\u{0}WEBP".utf8)) == .webp)
        #expect(PreviewKind.recognise(Array("RIFF\u{0}\u{0}\u{0}\u{0}WAVE".utf8)) == nil, "a RIFF that is sound")
        #expect(PreviewKind.recognise(Array("%PDF-1.7".utf8)) == .pdf)
        #expect(PreviewKind.recognise(Array("<svg>".utf8)) == nil)
        for kind in PreviewKind.allCases { #expect(kind.format.family != nil, "\(kind) has its format") }
    }
}
