import Foundation

/// A browser-like client for end-to-end tests: keeps cookies between requests and reads the
/// CSRF token out of the pages it gets, so tests post forms the way a browser does.
public final class WebSession: @unchecked Sendable {  // used from one test thread
    public let port: UInt16
    public private(set) var cookies: [String: String] = [:]
    /// The CSRF token from the last page that carried one.
    public private(set) var csrfToken: String?

    public init(port: UInt16) { self.port = port }

    @discardableResult
    public func get(_ path: String, headers: [(String, String)] = []) throws -> HTTPResult {
        try send("GET", path, headers: headers, body: [])
    }

    /// Posts an urlencoded form; the page's CSRF token is added unless `csrf` says otherwise.
    @discardableResult
    public func post(_ path: String, form: [(String, String)], csrf: CSRF = .page, headers: [(String, String)] = []) throws -> HTTPResult {
        var fields = form
        switch csrf {
        case .page: if let csrfToken { fields.append(("csrf_token", csrfToken)) }
        case .value(let v): fields.append(("csrf_token", v))
        case .none: break
        }
        let body = fields.map { "\(Self.encode($0.0))=\(Self.encode($0.1))" }.joined(separator: "&")
        return try send("POST", path, headers: headers + [("Content-Type", "application/x-www-form-urlencoded")], body: Array(body.utf8))
    }

    /// Posts JSON as a script does: the page's CSRF token in `X-CSRF-Token`, `Accept: application/json`.
    @discardableResult
    public func postJSON(_ path: String, _ json: String, csrf: Bool = true) throws -> HTTPResult {
        var headers = [("Content-Type", "application/json"), ("Accept", "application/json")]
        if csrf, let csrfToken { headers.append(("X-CSRF-Token", csrfToken)) }
        return try send("POST", path, headers: headers, body: Array(json.utf8))
    }

    public enum CSRF { case page, none, value(String) }

    public func setCookie(_ name: String, _ value: String) { cookies[name] = value }

    private func send(_ method: String, _ path: String, headers: [(String, String)], body: [UInt8]) throws -> HTTPResult {
        var all = headers
        if !cookies.isEmpty { all.append(("Cookie", cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; "))) }
        let result = try HTTPClient.request(port: port, method: method, path: path, headers: all, body: body)
        for header in result.setCookies {
            let pair = header.prefix { $0 != ";" }
            guard let eq = pair.firstIndex(of: "=") else { continue }
            let name = String(pair[..<eq])
            let value = String(pair[pair.index(after: eq)...])
            if header.contains("Max-Age=0") || value.isEmpty { cookies.removeValue(forKey: name) } else { cookies[name] = value }
        }
        if let range = result.text.range(of: #"name="csrf_token" value=""#) {
            csrfToken = String(result.text[range.upperBound...].prefix { $0 != "\"" })
        }
        return result
    }

    static func encode(_ s: String) -> String {
        s.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? s
    }
}
