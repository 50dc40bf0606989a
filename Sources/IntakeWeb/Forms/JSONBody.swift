import Foundation
import Web

/// The body of a JSON API request: one object, at most 64 KiB; an empty body is an empty object.
enum JSONBody {
    /// The request's body as an object, or a 400 `invalid_json`.
    static func object(_ context: RequestContext) throws -> [String: Any] {
        let bytes = try context.request.body.readAll(limit: 64 * 1024)
        if bytes.isEmpty { return [:] }
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
            throw HTTPError.badRequest("The body must be a JSON object.", code: "invalid_json")
        }
        return object
    }
}
