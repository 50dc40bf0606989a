import CCurl
#if canImport(Glibc)
import Glibc
#endif

/// An IP address as bytes (4 for IPv4, 16 for IPv6), and whether it lies on the public internet.
/// Outgoing requests to addresses the site's owners choose (webhooks) check this, so a URL cannot
/// make the server call its own loopback, the private network it sits in, or a cloud metadata
/// service (169.254.169.254).
public struct NetworkAddress: Sendable, Equatable, CustomStringConvertible {
    public let bytes: [UInt8]

    /// Parses a literal address (`192.0.2.1`, `2001:db8::1`, also in brackets `[::1]`); nil when
    /// `text` is not one.
    public init?(_ text: String) {
        var literal = text
        if literal.hasPrefix("["), literal.hasSuffix("]") { literal = String(literal.dropFirst().dropLast()) }
        var v4 = in_addr(), v6 = in6_addr()
        if inet_pton(AF_INET, literal, &v4) == 1 {
            bytes = withUnsafeBytes(of: &v4) { Array($0) }
        } else if inet_pton(AF_INET6, literal, &v6) == 1 {
            bytes = withUnsafeBytes(of: &v6) { Array($0) }
        } else {
            return nil
        }
    }

    init(bytes: [UInt8]) { self.bytes = bytes }

    /// The address as text (`inet_ntop`).
    public var description: String {
        var out = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        var copy = bytes
        _ = inet_ntop(bytes.count == 4 ? AF_INET : AF_INET6, &copy, &out, socklen_t(out.count))
        return String(decoding: out.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The IPv4 address an IPv6 one carries (mapped `::ffff:a.b.c.d`, NAT64 `64:ff9b::a.b.c.d`).
    private var embeddedIPv4: NetworkAddress? {
        guard bytes.count == 16 else { return nil }
        let mapped = bytes[0..<10].allSatisfy { $0 == 0 } && bytes[10] == 0xff && bytes[11] == 0xff
        let nat64 = bytes[0..<12] == [0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0][...]
        return mapped || nat64 ? NetworkAddress(bytes: Array(bytes[12..<16])) : nil
    }

    /// False for loopback, private (RFC 1918, unique local), link-local, carrier-grade NAT,
    /// unspecified, multicast, broadcast and the reserved blocks; true otherwise.
    public var isPublic: Bool {
        if let v4 = embeddedIPv4 { return v4.isPublic }
        if bytes.count == 4 {
            let (a, b) = (bytes[0], bytes[1])
            switch a {
            case 0, 10, 127: return false                  // this network, private, loopback
            case 100 where b & 0xC0 == 64: return false    // 100.64.0.0/10 carrier-grade NAT
            case 169 where b == 254: return false          // link-local (cloud metadata)
            case 172 where b & 0xF0 == 16: return false    // 172.16.0.0/12
            case 192 where b == 168: return false          // 192.168.0.0/16
            case 192 where b == 0 && bytes[2] == 0: return false  // 192.0.0.0/24 protocol assignments
            case 198 where b & 0xFE == 18: return false    // 198.18.0.0/15 benchmarking
            case 224...255: return false                   // multicast, reserved, broadcast
            default: return true
            }
        }
        if bytes.allSatisfy({ $0 == 0 }) { return false }                              // ::
        if bytes[0..<15].allSatisfy({ $0 == 0 }) && bytes[15] == 1 { return false }  // ::1
        if bytes[0] & 0xFE == 0xFC { return false }                                    // fc00::/7 unique local
        if bytes[0] == 0xFE && bytes[1] & 0xC0 == 0x80 { return false }                // fe80::/10 link-local
        if bytes[0] == 0xFE && bytes[1] & 0xC0 == 0xC0 { return false }                // fec0::/10 site-local (deprecated)
        if bytes[0] == 0xFF { return false }                                           // multicast
        return true
    }

    /// Every address `host` resolves to (`getaddrinfo`, TCP), in the resolver's order; a literal
    /// address is returned as it is. Throws `CurlError` with the resolver's message.
    public static func resolve(_ host: String) throws -> [NetworkAddress] {
        if let literal = NetworkAddress(host) { return [literal] }
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, nil, &hints, &list)
        guard rc == 0 else {
            throw CurlError(CURLE_COULDNT_RESOLVE_HOST, "getaddrinfo \(host)", String(cString: gai_strerror(rc)))
        }
        defer { freeaddrinfo(list) }
        var found: [NetworkAddress] = []
        var entry = list
        while let info = entry?.pointee {
            if info.ai_family == AF_INET, let raw = info.ai_addr {
                let address = raw.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr }
                found.append(NetworkAddress(bytes: withUnsafeBytes(of: address) { Array($0) }))
            } else if info.ai_family == AF_INET6, let raw = info.ai_addr {
                let address = raw.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee.sin6_addr }
                found.append(NetworkAddress(bytes: withUnsafeBytes(of: address) { Array($0) }))
            }
            entry = info.ai_next
        }
        var unique: [NetworkAddress] = []
        for address in found where !unique.contains(address) { unique.append(address) }
        return unique
    }
}
