import Foundation
import Synchronization
import Web

/// `GET /api/openapi.json`: the JSON API described as an OpenAPI 3.1 document, for anyone (a
/// client generator, schemathesis in `scripts/api-contract`). The document is
/// `openapi.json` in the configured public directory, read at the first request of the
/// process and kept: it ships with a release and changes only with it.
enum APIDocumentShow {
    static func handle(_ context: RequestContext) throws -> Response {
        let bytes = try document(publicDirectory: context.services.configuration.publicDirectory)
        return Response(status: .ok, headers: ["content-type": "application/json", "cache-control": "public, max-age=3600"],
                        body: .bytes(bytes))
    }

    /// The documents read so far, by path: one in a running worker; tests may point at others.
    private static let loaded = Mutex<[String: [UInt8]]>([:])

    /// A missing document is a broken installation: logged with the request and answered as a 500.
    struct Missing: Error, CustomStringConvertible {
        let path: String
        var description: String { "the API document \(path) cannot be read" }
    }

    /// The document's bytes, read once per process (a failed read is tried again next time).
    static func document(publicDirectory: String) throws -> [UInt8] {
        let path = publicDirectory + "/openapi.json"
        if let bytes = loaded.withLock({ $0[path] }) { return bytes }
        guard let data = FileManager.default.contents(atPath: path) else { throw Missing(path: path) }
        let bytes = [UInt8](data)
        loaded.withLock { $0[path] = bytes }
        return bytes
    }
}
