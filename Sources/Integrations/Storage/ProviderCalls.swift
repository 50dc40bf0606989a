import Curl
import Foundation

/// How one provider reads its error answers beyond the status.
struct ProviderErrors {
    /// The provider's own reason, quoted in messages (Drive's `errors[].reason`, Dropbox's `error_summary`).
    let detail: (HTTPResponse) -> String?
    /// A rate limit worded with another status than 429 (Drive's 403 `userRateLimitExceeded`):
    /// waited for and retried as a 429 is, and temporary when the retries run out.
    var throttled: (HTTPResponse) -> Bool = { _ in false }
    /// A failure the provider's answer says more about than its status (a full Drive, a grant
    /// to reconnect), worded for the client and the owner; nil for the usual "HTTP status (reason)".
    var failure: (_ what: String, HTTPResponse) -> StorageProviderError? = { _, _ in nil }
}

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
    /// How this provider's error answers are read.
    let errors: ProviderErrors

    /// Sends with the bearer token; 429 (or what `errors.throttled` says is one), 5xx and dropped
    /// connections are retried by the policy.
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
            return try client.send(request, retry: retry, sleep: sleep, throttled: errors.throttled)
        } catch let error as CurlError {
            throw StorageProviderError("\(name): curl code \(error.code)", transient: true)
        }
    }

    /// Streams a download of `length` bytes to `sink`, each byte once and in order. A transfer cut
    /// short (a dropped connection, fewer bytes than promised) goes on with `Range: bytes=N-` from
    /// the first byte not yet delivered, answered by 206; a provider that ignores the range is a
    /// failure, never a repeat of bytes already sent. Error answers are read, not streamed: 401
    /// gets one new token, 429 and 5xx wait as the policy says. An empty file needs no call.
    func download(_ request: HTTPRequest, length: Int64, what: String, into sink: (UnsafeRawBufferPointer) throws -> Void) throws {
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
                try pause(status: retryStatus(response), retryAfter: response.header("retry-after"), transient: false,
                          or: failure(what, response))
            }
        }
    }

    /// A failed call, as the provider words it when it has words of its own; otherwise 5xx, 429
    /// (or a rate limit worded otherwise) and 401 may pass later, with the provider's reason quoted.
    func failure(_ what: String, _ response: HTTPResponse) -> StorageProviderError {
        if let own = errors.failure(what, response) { return own }
        let transient = response.status >= 500 || response.status == 429 || response.status == 401 || errors.throttled(response)
        return StorageProviderError("\(name) \(what): HTTP \(response.status)\(errors.detail(response).map { " (\($0))" } ?? "")", transient: transient)
    }

    /// The status the retry policy is to see: 429 for a rate limit worded with another.
    func retryStatus(_ response: HTTPResponse) -> Int {
        errors.throttled(response) ? 429 : response.status
    }

    /// A JSON number that is exactly an `Int64`: not a fraction, not out of range, not a boolean
    /// (JSONSerialization gives all three as NSNumber, which `int64Value` truncates, wraps or counts as 1).
    static func wholeNumber(_ value: Any?) -> Int64? {
        guard let number = value as? NSNumber, String(cString: number.objCType) != "c" else { return nil }
        return value as? Int64
    }

    func object(_ body: [UInt8]) throws -> [String: Any] {
        guard let json = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
            throw StorageProviderError("\(name) answered with something that is not a JSON object", transient: true)
        }
        return json
    }
}
