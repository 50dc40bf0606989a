import Curl

/// Where a webhook may be sent. By default only `https://` URLs whose host is a public address:
/// a literal loopback, private, link-local or reserved address, `localhost` and names under it
/// are refused when the endpoint is saved, and every name is resolved again when it is sent (see
/// `WebhookSender`) so a name that points inside cannot be used either.
/// `INTAKE_WEBHOOKS_ALLOW_PRIVATE=1` admits `http://` and private addresses (tests, closed networks).
public struct WebhookDestination: Sendable, Equatable {
    public let url: String
    public let scheme: String
    /// The host as written in the URL (a bracketed IPv6 literal without its brackets).
    public let host: String
    public let port: Int

    /// Parses and checks `text`; the error's message is for the owner's form.
    public init(_ text: String, allowPrivate: Bool) throws(ValidationError) {
        let url = text.trimmingSpaces()
        guard !url.isEmpty else { throw ValidationError("url", "Enter the URL Intake should send events to (https://…).") }
        guard url.utf8.count <= 2000 else { throw ValidationError("url", "Keep the URL to 2,000 characters.") }
        guard url.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }) else {
            throw ValidationError("url", "The URL may not contain spaces or control characters; percent-encode anything else.")
        }
        let lower = url.lowercased()
        let scheme: String
        if lower.hasPrefix("https://") { scheme = "https" } else if lower.hasPrefix("http://") { scheme = "http" } else {
            throw ValidationError("url", "The URL must start with https://.")
        }
        if scheme == "http" && !allowPrivate {
            throw ValidationError("url", "Use an https:// URL: events carry your clients' file names and are signed, but only TLS keeps them private on the way.")
        }
        let rest = url.dropFirst(scheme.count + 3)
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        guard !authority.contains("@") else { throw ValidationError("url", "Put no user name or password in the URL; the signature proves the sender.") }
        var host: Substring, portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw ValidationError("url", "The URL's IPv6 address is missing its closing ].") }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            portText = after.hasPrefix(":") ? after.dropFirst() : (after.isEmpty ? nil : after)
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            portText = authority[authority.index(after: colon)...]
        } else {
            host = authority
        }
        guard !host.isEmpty else { throw ValidationError("url", "The URL has no host name.") }
        var port = scheme == "https" ? 443 : 80
        if let portText {
            guard let n = Int(portText), (1...65535).contains(n) else { throw ValidationError("url", "The URL's port must be a number from 1 to 65535.") }
            port = n
        }
        let name = host.lowercased().hasSuffix(".") ? String(host.lowercased().dropLast()) : host.lowercased()
        if !allowPrivate {
            if name == "localhost" || name.hasSuffix(".localhost") {
                throw ValidationError("url", "\(name) is this server itself: Intake sends events only to addresses on the public internet.")
            }
            if let address = NetworkAddress(name), !address.isPublic {
                throw ValidationError("url", "\(address) is a loopback, private or link-local address: Intake sends events only to addresses on the public internet.")
            }
        }
        self.url = url
        self.scheme = scheme
        self.host = name
        self.port = port
    }

    /// The addresses to connect to: those `resolve` gives for the host, each checked (unless
    /// `allowPrivate`); throws a message naming the address when any is not public, since a
    /// name that resolves both inside and outside must not be let through by luck of order.
    public func addresses(allowPrivate: Bool, resolve: (String) throws -> [NetworkAddress]) throws -> [NetworkAddress] {
        let found = try resolve(host)
        guard !found.isEmpty else { throw WebhookSendRefusal("\(host) resolves to no address") }
        if !allowPrivate, let inside = found.first(where: { !$0.isPublic }) {
            throw WebhookSendRefusal("\(host) resolves to \(inside), a loopback, private or link-local address; not sent")
        }
        return found
    }

    /// The CURLOPT_RESOLVE entry that pins the request to `addresses`, tried in order (brackets
    /// for IPv6; a list needs libcurl 7.59 or later).
    public func pin(_ addresses: [NetworkAddress]) -> String {
        "\(host):\(port):" + addresses.map { $0.bytes.count == 16 ? "[\($0)]" : "\($0)" }.joined(separator: ",")
    }
}

/// A delivery not even attempted: the destination is not allowed or does not resolve.
public struct WebhookSendRefusal: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
