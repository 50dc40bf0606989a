import Curl
import Foundation

/// What the cloud providers share: libcurl, the retry policy, the account's bearer token (one
/// renewal after a 401), their JSON answers and how a failure is told.
struct ProviderCalls {
    /// "Drive" or "Dropbox", for messages.
    let name: String
    let client: CurlClient
    let retry: RetryPolicy
    let sleep: @Sendable (Double) -> Void
    /// The current access token; with `true`, a new one (the provider said 401).
    let token: (_ renew: Bool) throws -> String

    /// Sends with the bearer token; 429, 5xx and dropped connections are retried by the policy.
    /// After a 401 one more try with a new token, unless `renewed` says that was done already.
    func call(_ request: HTTPRequest, renewed: inout Bool) throws -> HTTPResponse {
        var response = try attempt(request, token: try token(false))
        if response.status == 401 && !renewed {
            renewed = true
            response = try attempt(request, token: try token(true))
        }
        return response
    }

    /// `call` for a request of its own (its own renewal).
    func call(_ request: HTTPRequest) throws -> HTTPResponse {
        var renewed = false
        return try call(request, renewed: &renewed)
    }

    private func attempt(_ request: HTTPRequest, token: String) throws -> HTTPResponse {
        var request = request
        request.headers.append(("Authorization", "Bearer \(token)"))
        do {
            return try client.send(request, retry: retry, sleep: sleep)
        } catch let error as CurlError {
            throw StorageProviderError("\(name): curl code \(error.code)", transient: true)
        }
    }

    /// A failed call: 5xx, 429 and 401 may pass later; `detail` is the provider's own reason.
    func failure(_ what: String, _ response: HTTPResponse, detail: String?) -> StorageProviderError {
        let transient = response.status >= 500 || response.status == 429 || response.status == 401
        return StorageProviderError("\(name) \(what): HTTP \(response.status)\(detail.map { " (\($0))" } ?? "")", transient: transient)
    }

    func object(_ body: [UInt8]) throws -> [String: Any] {
        guard let json = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
            throw StorageProviderError("\(name) answered with something that is not a JSON object", transient: true)
        }
        return json
    }
}
