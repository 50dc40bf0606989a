import Foundation
@testable import IntakeWeb
import Testing
import Web

/// `public/openapi.json` against the router: every `/api` route is described with its method and
/// who may call it, the document describes nothing the router lacks, and it holds together as an
/// OpenAPI 3.1 document (`scripts/api-contract` also runs openapi-spec-validator and schemathesis).
@Suite("API document")
struct APIDocumentTests {
    /// The repository's public folder.
    static let publicDirectory: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.appendingPathComponent("public").path
    }()

    static let methods = ["get", "put", "post", "delete", "options", "head", "patch", "trace"]

    static func document() throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: publicDirectory + "/openapi.json"))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// `METHOD /path/{param}` of every operation of the document.
    static func documentedOperations(_ doc: [String: Any]) throws -> [String: [String: Any]] {
        var out: [String: [String: Any]] = [:]
        for (path, item) in try #require(doc["paths"] as? [String: [String: Any]]) {
            for (key, value) in item where methods.contains(key) {
                out["\(key.uppercased()) \(path)"] = try #require(value as? [String: Any])
            }
        }
        return out
    }

    /// `METHOD /path/{param}` of every `/api` route, with who may reach it.
    static func apiRoutes() -> [String: Route] {
        var out: [String: Route] = [:]
        for entry in Application.routes(debug: true).entries where entry.pattern == "/api" || entry.pattern.hasPrefix("/api/") {
            let path = entry.pattern.split(separator: "/").map { part in
                part.hasPrefix(":") || part.hasPrefix("*") ? "{\(part.dropFirst())}" : String(part)
            }.joined(separator: "/")
            out["\(entry.method.rawValue) /\(path)"] = entry.handler
        }
        return out
    }

    @Test("every /api route is in the document with its method, and the document has nothing the router lacks")
    func routesMatch() throws {
        let documented = Set(try Self.documentedOperations(try Self.document()).keys)
        let routed = Set(Self.apiRoutes().keys)
        #expect(routed.subtracting(documented).sorted() == [], "routes missing from public/openapi.json")
        #expect(documented.subtracting(routed).sorted() == [], "operations in public/openapi.json that no route serves")
        // Not vacuous: the API as it stood when the document was written.
        #expect(routed.count >= 30)
    }

    @Test("signed-in operations take the session (with X-CSRF-Token when unsafe) or an API token of the right scope; the others need neither")
    func security() throws {
        let operations = try Self.documentedOperations(try Self.document())
        for (key, route) in Self.apiRoutes() {
            let operation = try #require(operations[key])
            let requirements = try #require(operation["security"] as? [[String: [String]]], "\(key) declares no security")
            let unsafe = HTTPMethod(String(key.prefix { $0 != " " })).isUnsafe
            switch route.access {
            case .signedIn, .admin:
                let session: [String: [String]] = unsafe && route.csrfToken ? ["session": [], "csrfToken": []] : ["session": []]
                #expect(requirements.contains(session), "\(key): the session cookie")
                #expect(requirements.contains(["apiToken": [unsafe ? "read_write" : "read"]]), "\(key): the API token")
            case .anyone:
                #expect(requirements.allSatisfy { $0["apiToken"] == nil }, "\(key) takes no API token")
                if unsafe && route.csrfToken {
                    #expect(!requirements.isEmpty && requirements.allSatisfy { !$0.isEmpty }, "\(key) needs a CSRF token")
                } else {
                    #expect(requirements.isEmpty, "\(key) needs nothing")
                }
            }
        }
    }

    @Test("the document holds together as OpenAPI 3.1: every reference resolves, every path parameter is declared, operation ids are unique")
    func structure() throws {
        let doc = try Self.document()
        #expect((doc["openapi"] as? String)?.hasPrefix("3.1.") == true)
        let info = try #require(doc["info"] as? [String: Any])
        #expect(info["title"] is String && info["version"] is String)
        let schemes = try #require((doc["components"] as? [String: Any])?["securitySchemes"] as? [String: Any])

        // Every $ref is local and names something.
        func resolve(_ ref: String) -> Any? {
            guard ref.hasPrefix("#/") else { return nil }
            var node: Any? = doc
            for part in ref.dropFirst(2).split(separator: "/") { node = (node as? [String: Any])?[String(part)] }
            return node
        }
        var refs = 0
        func walk(_ node: Any, at path: String) {
            if let object = node as? [String: Any] {
                if let ref = object["$ref"] as? String {
                    refs += 1
                    #expect(resolve(ref) != nil, "\(path): \(ref) names nothing")
                }
                for (key, value) in object { walk(value, at: path + "/" + key) }
            } else if let list = node as? [Any] {
                for (i, value) in list.enumerated() { walk(value, at: path + "/\(i)") }
            }
        }
        walk(doc, at: "#")
        #expect(refs > 50)

        var operationIDs: [String] = []
        for (path, item) in try #require(doc["paths"] as? [String: [String: Any]]) {
            // Path parameters: declared on the path item or the operation, each exactly once.
            let templated = Set(path.split(separator: "/").filter { $0.hasPrefix("{") }.map { String($0.dropFirst().dropLast()) })
            func parameters(_ node: [String: Any]) -> [[String: Any]] {
                ((node["parameters"] as? [[String: Any]]) ?? []).map { ($0["$ref"] as? String).flatMap(resolve) as? [String: Any] ?? $0 }
            }
            for (method, value) in item where Self.methods.contains(method) {
                let operation = try #require(value as? [String: Any])
                operationIDs.append(try #require(operation["operationId"] as? String, "\(method) \(path) has no operationId"))
                let declared = (parameters(item) + parameters(operation)).filter { $0["in"] as? String == "path" }
                #expect(Set(declared.compactMap { $0["name"] as? String }) == templated, "\(method) \(path): path parameters")
                #expect(declared.allSatisfy { $0["required"] as? Bool == true }, "\(method) \(path): path parameters are required")
                let responses = try #require(operation["responses"] as? [String: Any], "\(method) \(path) has no responses")
                #expect(!responses.isEmpty && responses.keys.allSatisfy { Int($0).map { (100...599).contains($0) } ?? ($0 == "default") },
                        "\(method) \(path): response keys are statuses")
                for requirement in (operation["security"] as? [[String: Any]]) ?? [] {
                    #expect(requirement.keys.allSatisfy { schemes[$0] != nil }, "\(method) \(path): an unknown security scheme")
                }
            }
        }
        #expect(Set(operationIDs).count == operationIDs.count, "operation ids are unique")
    }

    @Test("a portal the store refuses is answered with the fields named as the body names them (found by scripts/api-contract)")
    func portalFieldNames() throws {
        try withDatabase { db in
            let h = try AppHarness(db: db)
            let (cookie, csrf) = try h.signIn(.user)
            var headers = HTTPHeaders()
            headers.add("cookie", cookie.map { "\($0.key)=\($0.value)" }.joined(separator: "; "))
            headers.add("x-csrf-token", csrf)
            headers.add("content-type", "application/json")
            let r = h.app.respond(to: Request(method: .post, uri: "/api/portals", headers: headers, remoteAddress: "203.0.113.9", id: "t",
                                              body: RequestBody(bytes: Array(#"{"name":"Tax papers","slug":"tax-papers","maxFiles":0}"#.utf8))))
            #expect(r.status == .unprocessableContent)
            let error = try #require((try JSONSerialization.jsonObject(with: Data(r.text.utf8)) as? [String: Any])?["error"] as? [String: Any])
            #expect((error["fields"] as? [String: String]).map { $0.keys.sorted() } == ["maxFiles", "storageAccountId"])
        }
    }

    @Test("GET /api/openapi.json serves the document to anyone, as JSON with a cache header")
    func served() throws {
        try withDatabase { db in
            let h = try AppHarness(db: db, environment: ["INTAKE_PUBLIC_DIR": Self.publicDirectory])
            let r = h.send(.get, "/api/openapi.json")
            #expect(r.status == .ok)
            #expect(r.headers["content-type"] == "application/json")
            #expect(r.headers["cache-control"] == "public, max-age=3600")
            #expect(r.text == (try String(contentsOfFile: Self.publicDirectory + "/openapi.json", encoding: .utf8)))
            #expect(r.cookie("intake_csrf") == nil, "a JSON answer sets no cookie")
        }
    }
}
