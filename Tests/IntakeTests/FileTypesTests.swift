import Testing
@testable import Intake

@Suite("File types")
struct FileTypesTests {
    static let exe: [UInt8] = [0x4D, 0x5A, 0x90, 0x00, 0x03, 0x00, 0x00, 0x00]
    static let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D]
    static let mp4: [UInt8] = [0x00, 0x00, 0x00, 0x18] + Array("ftypisom".utf8)
    static let psd: [UInt8] = Array("8BPS".utf8) + [0x00, 0x01]
    static let pdf: [UInt8] = Array("%PDF-1.7\n".utf8)
    static let docx: [UInt8] = [0x50, 0x4B, 0x03, 0x04, 0x14, 0x00]
    static let elf: [UInt8] = [0x7F, 0x45, 0x4C, 0x46, 0x02, 0x01]

    static let open = FileTypes.Accepted.anything
    static let documents = FileTypes.Accepted(families: [.documents])
    static let images = FileTypes.Accepted(families: [.images])
    static let jpgOnly = FileTypes.Accepted(extensions: ["jpg"])
    static let dwg = FileTypes.Accepted(extensions: ["dwg"])

    @Test("the full check by name and first bytes", arguments: [
        // An open portal takes anything: any type, no extension, even a program.
        ("clip.mp4", mp4, open, true),
        ("design.psd", psd, open, true),
        ("README", Array("text".utf8), open, true),
        ("tool.exe", exe, open, true),
        ("virus.pdf", exe, open, true),
        // Narrowed by family.
        ("report.PDF", pdf, documents, true),
        ("letter.docx", docx, documents, true),                  // a ZIP-based document is a document
        ("notes.txt", Array("BMW service notes\n".utf8), documents, true), // text that begins like a BMP is text
        ("virus.pdf", exe, documents, false),                     // a renamed program
        ("virus.docx", elf, documents, false),
        ("fake.pdf", Array("hello".utf8), documents, false),      // a PDF always has its signature
        ("notes.txt", [0x00, 0x01, 0x02], documents, false),      // binary posing as text
        ("clip.mp4", mp4, documents, false),                      // not a document by name
        ("README", Array("text".utf8), documents, false),         // no extension: cannot be told to be a document
        ("photo.jpg", png, images, true),                         // a PNG named .jpg is still an image
        ("photo.png", pdf, images, false),                        // a PDF renamed .png
        ("design.psd", psd, images, true),
        // Narrowed by extension.
        ("photo.jpg", png, jpgOnly, false),                       // a PNG is not what .jpg promised
        ("photo.jpg", [0xFF, 0xD8, 0xFF, 0xE0], jpgOnly, true),
        ("plan.dwg", Array("AC1032".utf8), dwg, true),            // a type Intake does not know, by the owner's list
        ("plan.dwg", exe, dwg, false),                            // …but not a program named so
        ("plan.dwg", elf, dwg, false),
        // Extensions the owner typed whose content is a container Intake knows by another name.
        ("app.jar", docx, FileTypes.Accepted(extensions: ["jar"]), true),   // a zip, not a Word document
        ("mail.msg", [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1], FileTypes.Accepted(extensions: ["msg"]), true), // OLE
        ("tool.py", Array("#!/usr/bin/env python3\n".utf8), FileTypes.Accepted(extensions: ["py"]), true),
    ] as [(String, [UInt8], FileTypes.Accepted, Bool)])
    func check(name: String, head: [UInt8], accepted: FileTypes.Accepted, taken: Bool) {
        let result = FileTypes.check(fileName: name, head: head, accepted: accepted)
        if case .accepted = result { #expect(taken, "\(name) was accepted") } else { #expect(!taken, "\(name) was refused: \(result)") }
    }

    @Test("a refusal says what the file is and what the portal accepts")
    func messages() {
        #expect(FileTypes.check(fileName: "invoice.pdf", head: Self.exe, accepted: Self.documents)
                == .refused("“invoice.pdf” is really a Windows program, which this portal does not accept (it accepts documents)."))
        #expect(FileTypes.check(fileName: "clip.mp4", accepted: FileTypes.Accepted(families: [.documents, .images], extensions: ["dwg"]))
                == .refused("“clip.mp4”: .mp4 files are not accepted here. This portal accepts documents, images and .dwg files."))
        #expect(FileTypes.check(fileName: "README", accepted: Self.documents)
                == .refused("“README” has no file extension, so it cannot be told to be one of the types this portal accepts (documents)."))
    }

    @Test("families list their extensions; every known format but programs has a family")
    func families() {
        #expect(FileTypes.Family.video.extensions.contains("mp4") && FileTypes.Family.images.extensions.contains("psd"))
        #expect(FileTypes.Family.archives.extensions.contains("7z") && FileTypes.Family.audio.extensions.contains("flac"))
        #expect(Self.documents.allExtensions.contains("pdf") && !Self.documents.allExtensions.contains("mp4"))
        let programs = FileTypes.kinds.filter { $0.family == nil }.map(\.name)
        #expect(programs.allSatisfy { $0.contains("program") || $0 == "script" })
        // No extension is claimed by two formats (the message would name the wrong one).
        let all = FileTypes.kinds.flatMap(\.extensions)
        #expect(all.count == Set(all).count)
    }

    @Test("names without an extension", arguments: ["README", ".profile", "archive.", "Makefile"])
    func noExtension(name: String) {
        #expect(FileTypes.fileExtension(name) == nil)
        #expect(FileTypes.check(fileName: name, head: [0x00], accepted: .anything) == .accepted(nil))
    }
}
