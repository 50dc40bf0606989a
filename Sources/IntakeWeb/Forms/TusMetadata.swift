import Foundation
import Intake

/// tus's `Upload-Metadata` header: `key base64,key2 base64,flag`.
enum TusMetadata {
    /// Keys are ASCII without spaces or commas and unique; values are base64 of UTF-8. At most 16 KiB.
    static func parse(_ header: String) throws -> [String: String] {
        var out: [String: String] = [:]
        guard header.utf8.count <= 16 * 1024 else { throw ValidationError("", "Upload-Metadata is too long.") }
        for pair in header.split(separator: ",") {
            let parts = pair.trimmingCharacters(in: .whitespaces).split(separator: " ", omittingEmptySubsequences: true)
            guard let key = parts.first, parts.count <= 2, key.unicodeScalars.allSatisfy({ $0.isASCII && $0.value > 0x20 }), out[String(key)] == nil else {
                throw ValidationError("", "Upload-Metadata is malformed near “\(pair.prefix(40))”.")
            }
            guard parts.count == 2 else { out[String(key)] = ""; continue }
            guard let data = Data(base64Encoded: String(parts[1])), let value = String(data: data, encoding: .utf8) else {
                throw ValidationError("", "The Upload-Metadata value of “\(key)” is not base64 of UTF-8 text.")
            }
            out[String(key)] = value
        }
        return out
    }

    /// The header's value for `metadata`, keys in order.
    static func encode(_ metadata: [String: String]) -> String {
        metadata.sorted { $0.key < $1.key }.map { "\($0.key) \(Data($0.value.utf8).base64EncodedString())" }.joined(separator: ",")
    }
}
