import Foundation
import Testing
@testable import QRCodes

@Suite("QR codes for portal links")
struct QRCodeTests {
    /// The SVG's dark modules read back from its path (`M x y h w v1 h-w z` runs).
    func modules(ofSVG svg: String) throws -> (side: Int, dark: Set<[Int]>) {
        let side = Int(svg.split(separator: "viewBox=\"0 0 ")[1].split(separator: " ")[0])!
        let d = String(svg.split(separator: " d=\"")[1].split(separator: "\"")[0])
        var dark: Set<[Int]> = []
        for run in d.split(separator: "M") {
            let numbers = run.split(whereSeparator: { !$0.isNumber }).map { Int($0)! }
            for x in numbers[0]..<(numbers[0] + numbers[2]) { dark.insert([x, numbers[1]]) }
        }
        return (side, dark)
    }

    func run(_ arguments: [String]) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    static let hasZbar = FileManager.default.isExecutableFile(atPath: "/usr/bin/zbarimg")

    @Test("the SVG, drawn to an image, decodes with zbarimg to the URL", .enabled(if: hasZbar), arguments: [
        "http://127.0.0.1:8080/p/demo", "https://intake.example.com/p/tax-returns-2026-ÄÖÜ",
    ])
    func decodes(url: String) throws {
        let svg = try QRCode(encoding: url).svg(label: "QR code for \(url)")
        let (side, dark) = try modules(ofSVG: svg)
        // A plain PGM, 8 pixels a module, the quiet zone included as the SVG draws it.
        let scale = 8
        var pgm = "P2\n\(side * scale) \(side * scale)\n1\n"
        for y in 0..<(side * scale) {
            pgm += (0..<(side * scale)).map { dark.contains([$0 / scale, y / scale]) ? "0" : "1" }.joined(separator: " ") + "\n"
        }
        let path = NSTemporaryDirectory() + "/qr-\(UUID().uuidString).pgm"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try pgm.write(toFile: path, atomically: true, encoding: .ascii)
        let (status, output) = try run(["zbarimg", "--quiet", "--raw", "-Sbinary", path])
        #expect(status == 0)
        #expect(output.trimmingCharacters(in: .newlines) == url)
    }

    @Test("the modules are those of the qrencode command (level M)", .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/qrencode")))
    func sameAsQrencode() throws {
        let url = "http://127.0.0.1:8080/p/demo"
        let code = try QRCode(encoding: url)
        let (status, ascii) = try run(["qrencode", "-l", "M", "-m", "0", "-t", "ASCII", url])
        #expect(status == 0)
        // ASCII output: "##" a dark module, "  " a light one, one line a row.
        let rows = ascii.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.isEmpty }
        #expect(rows.count == code.width)
        for (y, row) in rows.enumerated() {
            let chars = Array(row)
            for x in 0..<code.width { #expect((chars[2 * x] == "#") == code.isDark(x: x, y: y), "module \(x),\(y)") }
        }
    }

    @Test("the SVG has a four-module quiet zone, an accessible name (escaped) and no script")
    func svgShape() throws {
        let code = try QRCode(encoding: "https://x.example/p/a")
        let svg = code.svg(label: "QR code for <a & \"b\">")
        let (side, dark) = try modules(ofSVG: svg)
        #expect(side == code.width + 8)
        #expect(dark.allSatisfy { $0[0] >= 4 && $0[1] >= 4 && $0[0] < side - 4 && $0[1] < side - 4 })
        #expect(dark.count == code.modules.filter { $0 }.count)
        #expect(svg.contains(#"role="img" aria-label="QR code for &lt;a &amp; &quot;b&quot;&gt;""#))
        #expect(svg.contains("<title>QR code for &lt;a &amp; &quot;b&quot;&gt;</title>"))
        #expect(!svg.contains("<script"))
        #expect(throws: QRCode.EncodingError.self) { try QRCode(encoding: "") }
        #expect(throws: QRCode.EncodingError.self) { try QRCode(encoding: String(repeating: "x", count: 8000)) }
    }
}
