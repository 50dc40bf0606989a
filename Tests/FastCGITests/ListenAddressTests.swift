@testable import FastCGI
import Testing

@Suite("INTAKE_LISTEN addresses")
struct ListenAddressTests {
    @Test("parsed: an IPv4 host with a port is TCP, anything else is a socket path", arguments: [
        ("127.0.0.1:9000", ListenAddress.tcp(host: "127.0.0.1", port: 9000)),
        ("0.0.0.0:1", .tcp(host: "0.0.0.0", port: 1)),
        ("/run/intake/intake.sock", .unix(path: "/run/intake/intake.sock")),
        ("var/intake.sock", .unix(path: "var/intake.sock")),
        ("./x:9000", .unix(path: "./x:9000")),
        ("/tmp/odd:9000", .unix(path: "/tmp/odd:9000")),
        ("intake.sock", .unix(path: "intake.sock")),
    ] as [(String, ListenAddress)])
    func parse(text: String, expected: ListenAddress) {
        #expect(ListenAddress.parse(text) == expected)
    }

    @Test("refused: empty, a host with a port whose host is not an IPv4 address, and an IPv4 host with a port that is none", arguments: [
        "", "localhost:9000", "example.com:80", "256.0.0.1:80", "::1:9000",
        "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:", "127.0.0.1:90x", "127.0.0.1:-1",
    ])
    func refused(text: String) {
        #expect(ListenAddress.parse(text) == nil, "\(text)")
    }

    @Test("what nginx's fastcgi_pass takes, and what the log shows")
    func forms() {
        #expect(ListenAddress.unix(path: "/run/i.sock").nginxUpstream == "unix:/run/i.sock")
        #expect(ListenAddress.tcp(host: "127.0.0.1", port: 9000).nginxUpstream == "127.0.0.1:9000")
        #expect(ListenAddress.unix(path: "/run/i.sock").description == "/run/i.sock")
        #expect(ListenAddress.tcp(host: "127.0.0.1", port: 9000).description == "127.0.0.1:9000")
    }
}
