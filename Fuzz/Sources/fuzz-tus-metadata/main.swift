import Foundation
import FuzzSupport
@testable import IntakeWeb

// tus's `Upload-Metadata` header (IntakeWeb/Forms/TusMetadata.swift). Oracles: every key is
// ASCII without spaces or commas; what parses, encoded again, parses to the same metadata; and
// metadata built from the input (keys made safe, any UTF-8 values) survives encode → parse.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTusMetadata(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    var input = FuzzInput(start, count)
    if input.byte() & 1 == 0 {
        let header = String(decoding: input.rest(), as: UTF8.self)
        guard let metadata = try? TusMetadata.parse(header) else { return 0 }
        for key in metadata.keys {
            require(!key.isEmpty && key.unicodeScalars.allSatisfy { $0.isASCII && $0.value > 0x20 && $0 != "," }, "key '\(key)'")
        }
        let encoded = TusMetadata.encode(metadata)
        require((try? TusMetadata.parse(encoded)) == metadata, "the metadata encoded again parses otherwise: \(encoded)")
    } else {
        var metadata: [String: String] = [:]
        while !input.isEmpty {
            let key = String(decoding: input.field(until: 0).filter { $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: ",") }, as: UTF8.self)
            let value = String(decoding: input.field(until: 0), as: UTF8.self)
            if !key.isEmpty { metadata[key] = value }
        }
        let encoded = TusMetadata.encode(metadata)
        guard encoded.utf8.count <= 16 * 1024 else { return 0 }
        require((try? TusMetadata.parse(encoded)) == metadata, "metadata did not survive encode → parse: \(encoded)")
    }
    return 0
}
