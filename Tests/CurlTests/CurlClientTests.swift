@testable import Curl
import Foundation
import Synchronization
import Testing
import TestSupport

/// Counts calls across the server's threads.
final class Calls: Sendable {
    private let count = Mutex(0)
    func next() -> Int { count.withLock { $0 += 1; return $0 } }
    var value: Int { count.withLock { $0 } }
}

@Suite("libcurl client against a loopback server")
struct CurlClientTests {
    @Test("GET with headers; the response's status, headers and body")
    func get() throws {
        let server = try LoopbackHTTPServer { request in
            .json(#"{"path":"\#(request.path)","q":"\#(request.query["q"] ?? "")","auth":"\#(request.headers["authorization"] ?? "")"}"#,
                  headers: [("X-Served-By", "loopback")])
        }
        defer { server.stop() }
        let response = try CurlClient().perform(HTTPRequest(url: server.baseURL + "/v1/about?q=a%20b", headers: [("Authorization", "Bearer t0k")]))
        #expect(response.status == 200)
        #expect(response.header("x-served-by") == "loopback" && response.header("Content-Type") == "application/json")
        #expect(response.text == #"{"path":"/v1/about","q":"a b","auth":"Bearer t0k"}"#)
    }

    @Test("a form post, and a file region uploaded as the body without reading the file whole")
    func bodies() throws {
        let server = try LoopbackHTTPServer { request in
            request.path == "/token"
                ? LoopbackResponse(status: 201, body: Array("\(request.method) \(request.headers["content-type"] ?? "-") \(request.form["refresh_token"] ?? "")|".utf8) + request.body)
                : LoopbackResponse(status: 201, body: Array("\(request.method) \(request.body.count) \(request.headers["content-type"] ?? "-")".utf8) + request.body.prefix(8))
        }
        defer { server.stop() }
        let client = try CurlClient()
        let form = try client.perform(.form(url: server.baseURL + "/token", [("grant_type", "refresh_token"), ("refresh_token", "a/b c")]))
        #expect(form.status == 201)
        #expect(form.text == "POST application/x-www-form-urlencoded a/b c|grant_type=refresh_token&refresh_token=a%2Fb%20c")
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("curl-\(UUID().uuidString)").path
        try Data((0..<100_000).map { UInt8($0 % 251) }).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let put = try client.perform(HTTPRequest(method: "PUT", url: server.baseURL + "/upload", body: .file(path: path, offset: 1000, length: 50_000)))
        #expect(put.text.hasPrefix("PUT 50000 -"))
        #expect(Array(put.body.suffix(8)) == (1000..<1008).map { UInt8($0 % 251) }, "the bytes start at the offset")
    }

    @Test("a POST or PUT without a body says Content-Length: 0 (and no Content-Type); a GET or DELETE says neither")
    func bodilessLength() throws {
        let server = try LoopbackHTTPServer { request in
            request.lacksLength
                ? .lengthRequired(request)
                : LoopbackResponse(body: Array("\(request.headers["content-length"] ?? "-") \(request.headers["content-type"] ?? "-") \(request.headers["transfer-encoding"] ?? "-")".utf8))
        }
        defer { server.stop() }
        let client = try CurlClient()
        for method in ["POST", "PUT"] {
            let response = try client.perform(HTTPRequest(method: method, url: server.baseURL + "/rpc"))
            #expect(response.status == 200 && response.text == "0 - -", "\(method): \(response.status) \(response.text)")
        }
        for method in ["GET", "DELETE"] {
            let response = try client.perform(HTTPRequest(method: method, url: server.baseURL + "/rpc"))
            #expect(response.status == 200 && response.text == "- - -", "\(method): \(response.status) \(response.text)")
        }
    }

    @Test("a kept-alive connection closed after the server read the body: libcurl rewinds the body and resends it on a new connection", arguments: ["file", "bytes"])
    func rewind(kind: String) throws {
        let dropped = Calls()
        let server = try LoopbackHTTPServer(keepAlive: true) { request in
            if request.path == "/flaky" && dropped.value == 0 {
                _ = dropped.next()
                return LoopbackResponse(behaviour: .drop)
            }
            return LoopbackResponse(body: request.body)
        }
        defer { server.stop() }
        let content = (0..<300_000).map { UInt8($0 % 251) }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("curl-\(UUID().uuidString)").path
        try Data(content).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let client = try CurlClient()
        // The first answer leaves the connection open, so the next request reuses it.
        #expect(try client.perform(HTTPRequest(method: "POST", url: server.baseURL + "/warm", body: .bytes([1]))).status == 200)
        let body: HTTPRequest.Body = kind == "file" ? .file(path: path, offset: 1000, length: 200_000) : .bytes(Array(content[1000..<201_000]))
        let response = try client.perform(HTTPRequest(method: "PUT", url: server.baseURL + "/flaky", body: body))
        #expect(dropped.value == 1)
        #expect(response.status == 200 && response.body == Array(content[1000..<201_000]), "the whole body again, from its start")
    }

    @Test("a download streams to the caller in pieces; an error answer is collected, never streamed; a failing sink stops the transfer with its own error")
    func streaming() throws {
        struct Full: Error {}
        let payload = (0..<3_000_000).map { UInt8($0 % 256) }
        let server = try LoopbackHTTPServer { request in
            request.path == "/missing" ? .json(#"{"error":"not_found"}"#, status: 404) : LoopbackResponse(body: payload)
        }
        defer { server.stop() }
        let client = try CurlClient()
        var received = 0
        var pieces = 0
        let response = try client.perform(HTTPRequest(url: server.baseURL + "/big")) { piece in
            received += piece.count
            pieces += 1
        }
        #expect(response.status == 200 && received == payload.count && pieces > 1 && response.body.isEmpty)
        let missing = try client.perform(HTTPRequest(url: server.baseURL + "/missing")) { _ in Issue.record("an error body was streamed") }
        #expect(missing.status == 404 && missing.text == #"{"error":"not_found"}"#)
        let unwanted = try client.perform(HTTPRequest(url: server.baseURL + "/big"), streams: 206...206) { _ in Issue.record("a 200 was streamed") }
        #expect(unwanted.status == 200 && unwanted.body.count == payload.count, "a whole answer to a range request is collected instead")
        #expect(throws: Full.self) { try client.perform(HTTPRequest(url: server.baseURL + "/big")) { _ in throw Full() } }
        var small = CurlOptions()
        small.maxCollectedBodyBytes = 1000
        #expect(throws: CurlError.self) { try CurlClient(options: small).perform(HTTPRequest(url: server.baseURL + "/big")) }
    }

    @Test("429 with Retry-After is waited for as the server says, then succeeds")
    func retryAfter() throws {
        let calls = Calls()
        let server = try LoopbackHTTPServer { _ in
            calls.next() < 3 ? .json(#"{"error":"rate"}"#, status: 429, headers: [("Retry-After", "7")]) : .json("{}")
        }
        defer { server.stop() }
        var slept: [Double] = []
        let response = try CurlClient().send(HTTPRequest(url: server.baseURL + "/x")) { slept.append($0) }
        #expect(response.status == 200 && calls.value == 3 && slept == [7, 7])
    }

    @Test("an answer the caller reads as a rate limit (Google's 403 userRateLimitExceeded) is waited for like 429; other 403s are returned at once")
    func throttled() throws {
        let calls = Calls()
        let server = try LoopbackHTTPServer { request in
            if request.path == "/denied" { return .json(#"{"error":"forbidden"}"#, status: 403) }
            return calls.next() < 3 ? .json(#"{"error":"userRateLimitExceeded"}"#, status: 403, headers: calls.value == 2 ? [("Retry-After", "5")] : [])
                                    : .json("{}")
        }
        defer { server.stop() }
        var slept: [Double] = []
        let limited = { (response: HTTPResponse) in response.text.contains("RateLimit") }
        let response = try CurlClient().send(HTTPRequest(url: server.baseURL + "/x"), sleep: { slept.append($0) }, throttled: limited)
        #expect(response.status == 200 && calls.value == 3 && slept.count == 2 && slept.last == 5)
        slept = []
        let denied = try CurlClient().send(HTTPRequest(url: server.baseURL + "/denied"), sleep: { slept.append($0) }, throttled: limited)
        #expect(denied.status == 403 && slept.isEmpty)
    }

    @Test("503 and dropped connections back off exponentially with jitter; a 400 is not retried")
    func backoff() throws {
        let calls = Calls()
        let server = try LoopbackHTTPServer { request in
            if request.path == "/bad" { _ = calls.next(); return .json("{}", status: 400) }
            switch calls.next() {
            case 1: return LoopbackResponse(behaviour: .drop)
            case 2: return .json("{}", status: 503)
            default: return .json(#"{"ok":true}"#)
            }
        }
        defer { server.stop() }
        var slept: [Double] = []
        let ok = try CurlClient().send(HTTPRequest(url: server.baseURL + "/flaky")) { slept.append($0) }
        #expect(ok.status == 200 && calls.value == 3 && slept.count == 2)
        #expect(slept[0] >= 0 && slept[0] <= 0.5 && slept[1] >= 0 && slept[1] <= 1.0)
        slept = []
        let bad = try CurlClient().send(HTTPRequest(url: server.baseURL + "/bad")) { slept.append($0) }
        #expect(bad.status == 400 && slept.isEmpty)
    }

    @Test("a stalled server is given up after the low-speed time; a closed port is a connect error")
    func timeouts() throws {
        let server = try LoopbackHTTPServer { _ in LoopbackResponse(behaviour: .delay(4)) }
        defer { server.stop() }
        var options = CurlOptions()
        options.lowSpeedSeconds = 1
        let stalled = try #require(throws: CurlError.self) { try CurlClient(options: options).perform(HTTPRequest(url: server.baseURL + "/slow")) }
        #expect(stalled.isTransient)
        let closed = try #require(throws: CurlError.self) { try CurlClient().perform(HTTPRequest(url: "http://127.0.0.1:\(FreePort.find())/")) }
        #expect(closed.isTransient && closed.description.contains("curl_easy_perform GET http://127.0.0.1"))
    }

    @Test("redirects are not followed unless asked, and other schemes are refused")
    func redirects() throws {
        let server = try LoopbackHTTPServer { request in
            request.path == "/go" ? LoopbackResponse(status: 302, headers: [("Location", "/there")]) : .json("{}")
        }
        defer { server.stop() }
        #expect(try CurlClient().perform(HTTPRequest(url: server.baseURL + "/go")).status == 302)
        #expect(throws: CurlError.self) { try CurlClient().perform(HTTPRequest(url: "file:///etc/passwd")) }
    }

    @Test("retry policy: Retry-After as seconds or HTTP-date, capped; attempts bounded", arguments: [
        (1, 429, "3", false, 3.0), (1, 503, "Thu, 01 Jan 2026 00:00:10 GMT", false, 10.0), (1, 429, "999", false, nil),
        (5, 503, "1", false, nil), (1, 404, nil, false, nil), (2, 500, nil, false, 1.0), (3, nil, nil, true, 2.0), (1, nil, nil, false, nil),
    ] as [(Int, Int?, String?, Bool, Double?)])
    func policy(attempt: Int, status: Int?, retryAfter: String?, transient: Bool, expected: Double?) {
        let now = Date(timeIntervalSince1970: 1_767_225_600)  // 2026-01-01 00:00:00 UTC
        let delay = RetryPolicy().delay(afterAttempt: attempt, status: status, retryAfter: retryAfter, transientError: transient,
                                        random: 0.999_999, now: now)
        if let expected { #expect(delay.map { abs($0 - expected) < 0.001 } == true, "got \(String(describing: delay))") } else { #expect(delay == nil) }
    }

    @Test("transport failures that another try may cure are transient; a refused request or a local failure is not", arguments: [
        (7, true), (28, true), (55, true), (56, true), (52, true), (18, true), (6, true), (92, true),
        (65, true),  // CURLE_SEND_FAIL_REWIND: the body could not be sent again after a lost answer
        (1, false), (3, false), (23, false), (26, false), (60, false), (47, false),
    ] as [(Int32, Bool)])
    func transientCodes(code: Int32, transient: Bool) {
        #expect(CurlError.isTransient(code) == transient)
    }

    @Test("logs never show tokens in URLs")
    func redaction() {
        #expect(Redaction.url("https://x/cb?code=abc&state=s1&access_token=t") == "https://x/cb?code=REDACTED&state=s1&access_token=REDACTED")
        #expect(HTTPRequest(url: "https://x/a?refresh_token=r").redactedDescription == "GET https://x/a?refresh_token=REDACTED")
    }
}
