import Foundation

/// When to try a request again and how long to wait first: exponential backoff with full jitter,
/// and the server's `Retry-After` on 429 and 503. A pure function of its inputs, so it is tested
/// without a network or a clock.
public struct RetryPolicy: Sendable {
    public var maxAttempts = 5
    public var baseDelaySeconds = 0.5
    public var maxDelaySeconds = 30.0
    /// A `Retry-After` longer than this is not waited for: the request fails instead.
    public var maxRetryAfterSeconds = 120.0
    public var retryStatuses: Set<Int> = [429, 500, 502, 503, 504]

    public init() {}

    /// No retries at all.
    public static let never: RetryPolicy = { var p = RetryPolicy(); p.maxAttempts = 1; return p }()

    /// The pause before the next attempt, or nil to stop. `attempt` counts from 1 (the attempt
    /// that just failed); `random` is uniform in 0..<1; `now` reads an HTTP-date `Retry-After`.
    public func delay(afterAttempt attempt: Int, status: Int?, retryAfter: String?, transientError: Bool,
                      random: Double, now: Date) -> Double? {
        guard attempt < maxAttempts else { return nil }
        if let status {
            guard retryStatuses.contains(status) else { return nil }
            if status == 429 || status == 503, let retryAfter, let wait = Self.parseRetryAfter(retryAfter, now: now) {
                return wait <= maxRetryAfterSeconds ? wait : nil
            }
        } else if !transientError {
            return nil
        }
        let cap = min(maxDelaySeconds, baseDelaySeconds * pow(2, Double(attempt - 1)))
        return random * cap
    }

    /// `Retry-After` as delta-seconds or an HTTP-date (RFC 9110 §10.2.3).
    public static func parseRetryAfter(_ value: String, now: Date) -> Double? {
        let text = value.trimmingCharacters(in: .whitespaces)
        if let seconds = Int(text), seconds >= 0 { return Double(seconds) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        guard let date = formatter.date(from: text) else { return nil }
        return max(0, date.timeIntervalSince(now))
    }
}

extension HTTPTransport {
    /// Sends `request`, collecting the body, retrying under `policy`. `throttled` tells a rate
    /// limit the server words with another status than 429 (Google's 403 `userRateLimitExceeded`),
    /// which is then waited for and retried as a 429 is. `sleep` is injected so tests need not wait.
    public func send(_ request: HTTPRequest, retry policy: RetryPolicy = RetryPolicy(),
                     sleep: (Double) -> Void = { Thread.sleep(forTimeInterval: $0) },
                     throttled: (HTTPResponse) -> Bool = { _ in false }) throws -> HTTPResponse {
        var attempt = 0
        while true {
            attempt += 1
            do {
                let response = try perform(request, streams: 200...299, onBody: nil)
                let status = throttled(response) ? 429 : response.status
                guard let wait = policy.delay(afterAttempt: attempt, status: status, retryAfter: response.header("retry-after"),
                                              transientError: false, random: Double.random(in: 0..<1), now: Date()) else {
                    return response
                }
                sleep(wait)
            } catch let error as CurlError {
                guard let wait = policy.delay(afterAttempt: attempt, status: nil, retryAfter: nil, transientError: error.isTransient,
                                              random: Double.random(in: 0..<1), now: Date()) else { throw error }
                sleep(wait)
            }
        }
    }
}
