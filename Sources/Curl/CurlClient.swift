import CCurl
#if canImport(Glibc)
import Glibc
#endif

/// Transfer limits: how long to wait for a connection, and how slow a transfer may get before
/// it is given up (a stalled peer must not hold a thread for ever).
public struct CurlOptions: Sendable {
    public var connectTimeoutSeconds: Int = 10
    /// Abort when fewer than `lowSpeedBytesPerSecond` bytes a second move for `lowSpeedSeconds`.
    public var lowSpeedBytesPerSecond: Int = 1
    public var lowSpeedSeconds: Int = 60
    /// Redirects are not followed unless asked: OAuth and storage APIs answer directly.
    public var followRedirects = false
    public var maxRedirects = 5
    /// The most bytes a collected (not streamed) response body may have.
    public var maxCollectedBodyBytes = 16 * 1024 * 1024
    public var userAgent = "Intake"

    public init() {}
}

/// Safe Swift over one libcurl easy handle. The client owns the handle (one owner, freed in
/// `deinit`) and keeps it between requests so connections are reused; like the handle, it is
/// confined to one thread at a time.
public final class CurlClient {
    private let handle: UnsafeMutableRawPointer
    public let options: CurlOptions

    /// curl_global_init must run once before any handle exists, before threads race for it; a
    /// Swift global initialiser runs exactly once, thread-safely.
    private static let globalInit: CURLcode = curl_global_init(Int(CURL_GLOBAL_DEFAULT))

    public init(options: CurlOptions = CurlOptions()) throws {
        try CurlError.check(Self.globalInit, "curl_global_init")
        guard let handle = curl_easy_init() else { throw CurlError(CURLE_FAILED_INIT, "curl_easy_init") }
        self.handle = handle
        self.options = options
    }

    deinit { curl_easy_cleanup(handle) }

    /// Sends `request`. When `onBody` is given (a download) and the status is in `streams` (by
    /// default any 2xx), the body goes to `onBody` piece by piece; any other body is collected, up
    /// to `maxCollectedBodyBytes`, so an error answer is read and never mistaken for the content.
    /// Throws `CurlError` for transport failures, or what `onBody` threw; an HTTP error status is a
    /// normal response.
    public func perform(_ request: HTTPRequest, streams: ClosedRange<Int> = 200...299,
                        onBody: ((UnsafeRawBufferPointer) throws -> Void)? = nil) throws -> HTTPResponse {
        let transfer = try Transfer(request: request, onBody: onBody, streams: streams, limit: options.maxCollectedBodyBytes)
        let context = Unmanaged.passRetained(transfer)
        defer { context.release() }
        let pointer = context.toOpaque()

        curl_easy_reset(handle)
        var list: UnsafeMutablePointer<curl_slist>?
        defer { curl_slist_free_all(list) }
        // "Expect:" turns off curl's 100-continue wait for large bodies; nothing here needs it.
        for header in request.headers.map({ "\($0.0): \($0.1)" }) + ["Expect:"] {
            list = curl_slist_append(list, header)
        }

        var resolve: UnsafeMutablePointer<curl_slist>?
        defer { curl_slist_free_all(resolve) }
        for entry in request.pinnedAddresses { resolve = curl_slist_append(resolve, entry) }

        try set(CURLOPT_URL, request.url)
        try set(CURLOPT_HTTPHEADER, UnsafeRawPointer(list))
        if resolve != nil { try set(CURLOPT_RESOLVE, UnsafeRawPointer(resolve)) }
        if let timeout = request.timeoutSeconds { try set(CURLOPT_TIMEOUT, timeout) }
        try set(CURLOPT_USERAGENT, options.userAgent)
        try set(CURLOPT_PROTOCOLS_STR, "http,https")
        try set(CURLOPT_REDIR_PROTOCOLS_STR, "https")
        try set(CURLOPT_SSL_VERIFYPEER, 1)
        try set(CURLOPT_SSL_VERIFYHOST, 2)
        try set(CURLOPT_NOSIGNAL, 1)
        try set(CURLOPT_CONNECTTIMEOUT, options.connectTimeoutSeconds)
        try set(CURLOPT_LOW_SPEED_LIMIT, options.lowSpeedBytesPerSecond)
        try set(CURLOPT_LOW_SPEED_TIME, options.lowSpeedSeconds)
        try set(CURLOPT_FOLLOWLOCATION, options.followRedirects ? 1 : 0)
        try set(CURLOPT_MAXREDIRS, options.maxRedirects)
        try set(CURLOPT_ERRORBUFFER, UnsafeRawPointer(transfer.errorBuffer))
        try CurlError.check(ccurl_setopt_write(handle, Self.writeCallback), "curl_easy_setopt(WRITEFUNCTION)")
        try set(CURLOPT_WRITEDATA, UnsafeRawPointer(pointer))
        try CurlError.check(ccurl_setopt_header(handle, Self.headerCallback), "curl_easy_setopt(HEADERFUNCTION)")
        try set(CURLOPT_HEADERDATA, UnsafeRawPointer(pointer))

        if case .none = request.body, !Self.sendsContent(request.method) {
            if request.method == "HEAD" { try set(CURLOPT_NOBODY, 1) }
            else if request.method != "GET" { try set(CURLOPT_CUSTOMREQUEST, request.method) }
        } else {
            // An upload of a known length, so curl sends `Content-Length` (0 for a POST or PUT
            // without a body) and no `Content-Type` of its own. The seek callback lets curl send
            // the body again when a reused connection dies under the request ("Connection died,
            // retrying a fresh connect"); without it that is CURLE_SEND_FAIL_REWIND.
            try set(CURLOPT_UPLOAD, 1)
            try CurlError.check(ccurl_setopt_off(handle, CURLOPT_INFILESIZE_LARGE, curl_off_t(transfer.uploadLength)),
                                "curl_easy_setopt(INFILESIZE_LARGE)")
            try CurlError.check(ccurl_setopt_read(handle, Self.readCallback), "curl_easy_setopt(READFUNCTION)")
            try set(CURLOPT_READDATA, UnsafeRawPointer(pointer))
            try CurlError.check(ccurl_setopt_seek(handle, Self.seekCallback), "curl_easy_setopt(SEEKFUNCTION)")
            try set(CURLOPT_SEEKDATA, UnsafeRawPointer(pointer))
            try set(CURLOPT_CUSTOMREQUEST, request.method)
        }

        let code = curl_easy_perform(handle)
        if let failure = transfer.callbackError { throw failure }
        if code != CURLE_OK {
            throw CurlError(code, "curl_easy_perform \(request.redactedDescription)", transfer.errorText)
        }
        var status = 0
        try CurlError.check(ccurl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status), "curl_easy_getinfo(RESPONSE_CODE)")
        return HTTPResponse(status: status, headers: transfer.headers, body: transfer.body)
    }

    /// Methods whose request content has a meaning: without a body they still say
    /// `Content-Length: 0` ("a user agent SHOULD send Content-Length in a request when the method
    /// defines a meaning for enclosed content", RFC 9110 §8.6), and front ends such as Google's
    /// answer 411 without it.
    static func sendsContent(_ method: String) -> Bool { ["POST", "PUT", "PATCH"].contains(method) }

    private func set(_ option: CURLoption, _ value: Int) throws {
        try CurlError.check(ccurl_setopt_long(handle, option, value), "curl_easy_setopt(\(option.rawValue))")
    }

    private func set(_ option: CURLoption, _ value: String) throws {
        // libcurl copies string options (since 7.17), so the temporary C string may go away after.
        try CurlError.check(value.withCString { ccurl_setopt_ptr(handle, option, $0) }, "curl_easy_setopt(\(option.rawValue))")
    }

    private func set(_ option: CURLoption, _ value: UnsafeRawPointer?) throws {
        try CurlError.check(ccurl_setopt_ptr(handle, option, value), "curl_easy_setopt(\(option.rawValue))")
    }

    // The callbacks: libcurl calls them during curl_easy_perform with the Transfer as user data.

    private static let writeCallback: @convention(c) (UnsafeMutablePointer<CChar>, Int, Int, UnsafeMutableRawPointer?) -> Int = {
        data, size, count, user in
        let transfer = Unmanaged<Transfer>.fromOpaque(user!).takeUnretainedValue()
        return transfer.received(UnsafeRawBufferPointer(start: data, count: size * count)) ? size * count : 0
    }

    private static let headerCallback: @convention(c) (UnsafeMutablePointer<CChar>, Int, Int, UnsafeMutableRawPointer?) -> Int = {
        data, size, count, user in
        let transfer = Unmanaged<Transfer>.fromOpaque(user!).takeUnretainedValue()
        transfer.header(UnsafeRawBufferPointer(start: data, count: size * count))
        return size * count
    }

    private static let readCallback: @convention(c) (UnsafeMutablePointer<CChar>, Int, Int, UnsafeMutableRawPointer?) -> Int = {
        buffer, size, count, user in
        let transfer = Unmanaged<Transfer>.fromOpaque(user!).takeUnretainedValue()
        return transfer.read(into: UnsafeMutableRawBufferPointer(start: buffer, count: size * count))
    }

    /// "libcurl currently only passes SEEK_SET" (CURLOPT_SEEKFUNCTION): `offset` is from the body's start.
    private static let seekCallback: @convention(c) (UnsafeMutableRawPointer?, curl_off_t, Int32) -> Int32 = {
        user, offset, origin in
        let transfer = Unmanaged<Transfer>.fromOpaque(user!).takeUnretainedValue()
        return origin == SEEK_SET && transfer.seek(to: Int64(offset)) ? CURL_SEEKFUNC_OK : CURL_SEEKFUNC_FAIL
    }
}

/// The state of one transfer, reached from the C callbacks.
private final class Transfer {
    let onBody: ((UnsafeRawBufferPointer) throws -> Void)?
    let streams: ClosedRange<Int>
    let limit: Int
    /// The status of the response being received, from its status line.
    private var status = 0
    var body: [UInt8] = []
    var headers: [(String, String)] = []
    var callbackError: Error?
    let errorBuffer: UnsafeMutablePointer<CChar>
    // Upload source.
    private let bytes: [UInt8]
    private var fd: Int32 = -1
    private var position: Int64 = 0
    let uploadLength: Int64

    init(request: HTTPRequest, onBody: ((UnsafeRawBufferPointer) throws -> Void)?, streams: ClosedRange<Int>, limit: Int) throws {
        self.onBody = onBody
        self.streams = streams
        self.limit = limit
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE))
        errorBuffer.initialize(to: 0)
        switch request.body {
        case .none:
            bytes = []
            uploadLength = 0
        case .bytes(let b):
            bytes = b
            uploadLength = Int64(b.count)
        case .file(let path, let offset, let length):
            bytes = []
            fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else {
                errorBuffer.deallocate()
                throw CurlError(CURLE_READ_ERROR, "open \(path)", "cannot open the upload source (errno \(errno))")
            }
            position = offset
            uploadLength = length
        }
    }

    deinit {
        if fd >= 0 { close(fd) }
        errorBuffer.deallocate()
    }

    private var uploaded: Int64 = 0

    var errorText: String { String(cString: errorBuffer) }

    func received(_ data: UnsafeRawBufferPointer) -> Bool {
        do {
            if let onBody, streams.contains(status) {
                try onBody(data)
            } else {
                guard body.count + data.count <= limit else {
                    throw CurlError(CURLE_WRITE_ERROR, "collecting the response", "the response body is larger than \(limit) bytes")
                }
                body.append(contentsOf: data)
            }
            return true
        } catch {
            callbackError = error
            return false
        }
    }

    func header(_ line: UnsafeRawBufferPointer) {
        let text = String(decoding: line, as: UTF8.self).trimmingCharacters(in: "\r\n")
        if text.hasPrefix("HTTP/") {
            headers.removeAll()  // a new response (after a 100 Continue or a redirect)
            let fields = text.split(separator: " ")
            status = fields.count > 1 ? Int(fields[1]) ?? 0 : 0
            return
        }
        guard let colon = text.firstIndex(of: ":") else { return }
        headers.append((text[..<colon].lowercased(), String(text[text.index(after: colon)...]).trimmingCharacters(in: " \t")))
    }

    /// Where the next `read` starts, from the body's start (both sources are read by position,
    /// so going back costs nothing).
    func seek(to offset: Int64) -> Bool {
        guard offset >= 0 && offset <= uploadLength else { return false }
        uploaded = offset
        return true
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        let remaining = Int(uploadLength - uploaded)
        let n = min(buffer.count, remaining)
        guard n > 0 else { return 0 }
        if fd >= 0 {
            let got = pread(fd, buffer.baseAddress, n, off_t(position + uploaded))
            guard got > 0 else {
                callbackError = CurlError(CURLE_READ_ERROR, "reading the upload source", "the file ended early or could not be read")
                return Int(CURL_READFUNC_ABORT)
            }
            uploaded += Int64(got)
            return got
        }
        bytes.withUnsafeBytes { source in
            buffer.baseAddress!.copyMemory(from: source.baseAddress! + Int(uploaded), byteCount: n)
        }
        uploaded += Int64(n)
        return n
    }
}

extension String {
    func trimmingCharacters(in set: String) -> String {
        var s = Substring(self)
        while let f = s.first, set.contains(f) { s.removeFirst() }
        while let l = s.last, set.contains(l) { s.removeLast() }
        return String(s)
    }
}
