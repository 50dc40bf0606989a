import CCurl
import Foundation

extension CurlClient {
    /// Sends one RFC 5322 message over SMTP (`smtp://host:port`, or `smtps://`; STARTTLS is
    /// required when the URL asks for it with `?starttls`). Throws `CurlError` on any failure,
    /// so the outbox can retry later.
    public func sendMail(url: String, from: String, to recipients: [String], message: [UInt8],
                         username: String? = nil, password: String? = nil) throws {
        let transfer = MailTransfer(message: message)
        let context = Unmanaged.passRetained(transfer)
        defer { context.release() }
        let handle = try mailHandle()
        defer { curl_easy_cleanup(handle) }
        var rcpt: UnsafeMutablePointer<curl_slist>?
        defer { curl_slist_free_all(rcpt) }
        for r in recipients { rcpt = curl_slist_append(rcpt, "<\(r)>") }
        let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE))
        errorBuffer.initialize(to: 0)
        defer { errorBuffer.deallocate() }

        func set(_ option: CURLoption, _ value: String) throws {
            try CurlError.check(value.withCString { ccurl_setopt_ptr(handle, option, $0) }, "curl_easy_setopt(\(option.rawValue))")
        }
        func set(_ option: CURLoption, _ value: Int) throws {
            try CurlError.check(ccurl_setopt_long(handle, option, value), "curl_easy_setopt(\(option.rawValue))")
        }
        let plain = url.hasPrefix("smtp://")
        try set(CURLOPT_URL, url.replacingOccurrences(of: "?starttls", with: ""))
        try set(CURLOPT_PROTOCOLS_STR, "smtp,smtps")
        try set(CURLOPT_MAIL_FROM, "<\(from)>")
        try CurlError.check(ccurl_setopt_ptr(handle, CURLOPT_MAIL_RCPT, UnsafeRawPointer(rcpt)), "curl_easy_setopt(MAIL_RCPT)")
        if plain && url.contains("?starttls") { try set(CURLOPT_USE_SSL, Int(CURLUSESSL_ALL.rawValue)) }
        if let username { try set(CURLOPT_USERNAME, username) }
        if let password { try set(CURLOPT_PASSWORD, password) }
        try set(CURLOPT_SSL_VERIFYPEER, 1)
        try set(CURLOPT_SSL_VERIFYHOST, 2)
        try set(CURLOPT_NOSIGNAL, 1)
        try set(CURLOPT_CONNECTTIMEOUT, options.connectTimeoutSeconds)
        try set(CURLOPT_LOW_SPEED_LIMIT, 1)
        try set(CURLOPT_LOW_SPEED_TIME, 30)
        try set(CURLOPT_UPLOAD, 1)
        try CurlError.check(ccurl_setopt_ptr(handle, CURLOPT_ERRORBUFFER, UnsafeRawPointer(errorBuffer)), "curl_easy_setopt(ERRORBUFFER)")
        try CurlError.check(ccurl_setopt_read(handle, { buffer, size, count, user in
            let transfer = Unmanaged<MailTransfer>.fromOpaque(user!).takeUnretainedValue()
            return transfer.read(into: UnsafeMutableRawBufferPointer(start: buffer, count: size * count))
        }), "curl_easy_setopt(READFUNCTION)")
        try CurlError.check(ccurl_setopt_ptr(handle, CURLOPT_READDATA, UnsafeRawPointer(context.toOpaque())), "curl_easy_setopt(READDATA)")
        let code = curl_easy_perform(handle)
        if code != CURLE_OK { throw CurlError(code, "curl_easy_perform SMTP \(url)", String(cString: errorBuffer)) }
    }

    /// Whether the mail server at `url` takes a connection and greets (libcurl's connect phase:
    /// TCP, TLS when asked, the SMTP greeting), within `seconds`; nil when it does, else why not.
    /// Sends nothing.
    public func mailServerProblem(url: String, seconds: Int = 2) -> String? {
        guard let handle = try? mailHandle() else { return "libcurl could not make a handle" }
        defer { curl_easy_cleanup(handle) }
        let plain = url.hasPrefix("smtp://")
        var code = url.replacingOccurrences(of: "?starttls", with: "").withCString { ccurl_setopt_ptr(handle, CURLOPT_URL, $0) }
        if code == CURLE_OK { code = "smtp,smtps".withCString { ccurl_setopt_ptr(handle, CURLOPT_PROTOCOLS_STR, $0) } }
        for (option, value) in [(CURLOPT_CONNECT_ONLY, 1), (CURLOPT_NOSIGNAL, 1), (CURLOPT_CONNECTTIMEOUT, seconds), (CURLOPT_TIMEOUT, seconds + 1)]
            where code == CURLE_OK {
            code = ccurl_setopt_long(handle, option, value)
        }
        if code == CURLE_OK && plain && url.contains("?starttls") { code = ccurl_setopt_long(handle, CURLOPT_USE_SSL, Int(CURLUSESSL_ALL.rawValue)) }
        if code == CURLE_OK { code = curl_easy_perform(handle) }
        return code == CURLE_OK ? nil : String(cString: curl_easy_strerror(code))
    }

    /// A separate handle for mail, so the HTTP handle's connection cache is left alone.
    private func mailHandle() throws -> UnsafeMutableRawPointer {
        guard let handle = curl_easy_init() else { throw CurlError(CURLE_FAILED_INIT, "curl_easy_init") }
        return handle
    }
}

private final class MailTransfer {
    let message: [UInt8]
    var offset = 0
    init(message: [UInt8]) { self.message = message }

    func read(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        let n = min(buffer.count, message.count - offset)
        guard n > 0 else { return 0 }
        message.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress! + offset, byteCount: n) }
        offset += n
        return n
    }
}
