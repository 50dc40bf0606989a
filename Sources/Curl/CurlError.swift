import CCurl

/// A libcurl failure: the `CURLcode`, the call that failed, and libcurl's own message (the
/// error buffer when it said more than the generic text).
public struct CurlError: Error, CustomStringConvertible, Sendable {
    public let code: Int32
    public let function: String
    public let message: String

    init(_ code: CURLcode, _ function: String, _ errorBuffer: String = "") {
        self.code = Int32(code.rawValue)
        self.function = function
        self.message = errorBuffer.isEmpty ? String(cString: curl_easy_strerror(code)) : errorBuffer
    }

    public var description: String { "\(function) failed: \(message) (curl code \(code))" }

    /// Whether trying again may help: the connection or the transfer failed, not the request.
    public var isTransient: Bool { Self.isTransient(code) }

    /// `isTransient` for a raw `CURLcode`. CURLE_SEND_FAIL_REWIND is among them: the answer was
    /// lost on a reused connection and the body could not be sent again — the request may well
    /// pass on the next try.
    static func isTransient(_ code: Int32) -> Bool {
        switch CURLcode(rawValue: UInt32(code)) {
        case CURLE_COULDNT_CONNECT, CURLE_OPERATION_TIMEDOUT, CURLE_RECV_ERROR, CURLE_SEND_ERROR,
             CURLE_GOT_NOTHING, CURLE_PARTIAL_FILE, CURLE_COULDNT_RESOLVE_HOST, CURLE_HTTP2, CURLE_HTTP2_STREAM,
             CURLE_SEND_FAIL_REWIND:
            return true
        default:
            return false
        }
    }

    /// The one checking function: a non-OK code becomes a typed error naming the call.
    @inline(__always)
    static func check(_ code: CURLcode, _ function: @autoclosure () -> String) throws {
        if code != CURLE_OK { throw CurlError(code, function()) }
    }
}
