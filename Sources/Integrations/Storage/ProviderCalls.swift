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

    /// Streams a download of `length` bytes to `sink`, each byte once and in order. A transfer cut
    /// short (a dropped connection, fewer bytes than promised) goes on with `Range: bytes=N-` from
    /// the first byte not yet delivered, answered by 206; a provider that ignores the range is a
    /// failure, never a repeat of bytes already sent. Error answers are read, not streamed: 401
    /// gets one new token, 429 and 5xx wait as the policy says. An empty file needs no call.
    func download(_ request: HTTPRequest, length: Int64, what: String, detail: (HTTPResponse) -> String?,
                  into sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        var delivered: Int64 = 0
        var renewed = false
        var failures = 0
        func pause(status: Int?, retryAfter: String?, transient: Bool, or failure: @autoclosure () -> StorageProviderError) throws {
            failures += 1
            guard let wait = retry.delay(afterAttempt: failures, status: status, retryAfter: retryAfter, transientError: transient,
                                         random: Double.random(in: 0..<1), now: Date()) else { throw failure() }
            sleep(wait)
        }
        while delivered < length {
            var attempt = request
            attempt.headers.append(("Authorization", "Bearer \(try token(false))"))
            if delivered > 0 { attempt.headers.append(("Range", "bytes=\(delivered)-")) }
            let resuming = delivered > 0
            let before = delivered
            let response: HTTPResponse
            do {
                response = try withoutActuallyEscaping(sink) { sink in
                    try client.perform(attempt, streams: resuming ? 206...206 : 200...200) { piece in
                        guard Int64(piece.count) <= length - delivered else {
                            throw StorageProviderError("\(name) sent more bytes than the file holds", transient: false)
                        }
                        try sink(piece)
                        delivered += Int64(piece.count)
                    }
                }
            } catch let error as CurlError {
                try pause(status: nil, retryAfter: nil, transient: error.isTransient,
                          or: StorageProviderError("\(name) \(what): curl code \(error.code)", transient: true))
                continue
            }
            switch response.status {
            case 200 where !resuming, 206 where resuming:
                if delivered < length && delivered == before {
                    try pause(status: nil, retryAfter: nil, transient: true,
                              or: StorageProviderError("\(name) \(what): the file ended after \(delivered) of \(length) bytes", transient: true))
                }
            case 200:
                throw StorageProviderError("\(name) \(what): the provider ignored the range to resume from", transient: true)
            case 401 where !renewed:
                renewed = true
                _ = try token(true)
            default:
                try pause(status: response.status, retryAfter: response.header("retry-after"), transient: false,
                          or: failure(what, response, detail: detail(response)))
            }
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
