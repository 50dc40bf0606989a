import Curl
import Foundation
import FuzzSupport
@testable import Integrations

// What Intake reads of Google Drive's and Dropbox's answers (Integrations/Storage). Oracles:
// - Drive's `Range: bytes=0-N` (a resumable session's 308): a number comes back only for that
//   exact shape, N plain digits, and it is N + 1;
// - Drive's error bodies: a refusal only for a 403, and always worded as a failure;
// - Dropbox's `incorrect_offset`: an offset only when the body names one that is a whole,
//   non-negative number, and exactly that number; `error_summary` only when it is a string;
// - nothing Intake reads of a body crashes, whatever the JSON holds.

func response(_ status: Int, _ body: [UInt8]) -> HTTPResponse {
    HTTPResponse(status: status, headers: [], body: body)
}

/// The JSON number a body gives at `path`, as text, if it is one.
func number(_ body: [UInt8], _ path: [String]) -> NSNumber? {
    var value: Any? = try? JSONSerialization.jsonObject(with: Data(body))
    for key in path { value = (value as? [String: Any])?[key] }
    return value as? NSNumber
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzProviderAnswers(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    var input = FuzzInput(start, count)
    let selector = input.byte()
    let data = input.rest()
    switch selector % 3 {
    case 0:
        let header = String(decoding: data, as: UTF8.self)
        guard let held = GoogleDriveStorage.persisted(header) else { return 0 }
        let digits = header.dropFirst("bytes=0-".count)
        require(header.hasPrefix("bytes=0-") && !digits.isEmpty && digits.utf8.allSatisfy { $0 >= 48 && $0 <= 57 },
                "'\(header)' was read as \(held) bytes held")
        require(held >= 1 && String(held - 1) == String(digits.drop { $0 == "0" }).ifEmpty("0"), "'\(header)' was read as \(held) bytes held")
    case 1:
        let status = [403, 403, 400, 401, 404, 429, 500, 503][Int(selector / 3) % 8]
        let answer = response(status, data)
        let refusal = GoogleDriveStorage.refusal(answer)
        require(refusal == nil || status == 403, "a \(status) was read as a refusal")
        require((GoogleDriveStorage.failure("upload", answer) != nil) == (refusal != nil), "a refusal not worded as a failure, or the reverse")
        _ = GoogleDriveStorage.reason(answer)
    default:
        if let offset = DropboxStorage.correctOffset(data) {
            require(offset >= 0, "a negative offset \(offset) was taken as where to go on from")
            let given = number(data, ["error", "correct_offset"]) ?? number(data, ["error", "lookup_failed", "correct_offset"])
            require(given.map { Double(offset) == $0.doubleValue && $0.doubleValue.rounded() == $0.doubleValue } ?? false,
                    "the offset \(offset) is not the whole number the body gives (\(given.map { "\($0)" } ?? "none"))")
        }
        let summary = DropboxStorage.summary(response(409, data))
        if summary != nil {
            require(((try? JSONSerialization.jsonObject(with: Data(data))) as? [String: Any])?["error_summary"] is String, "a summary from nowhere")
        }
    }
    return 0
}

extension String {
    func ifEmpty(_ other: String) -> String { isEmpty ? other : self }
}
