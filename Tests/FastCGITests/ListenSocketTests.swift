@testable import FastCGI
import Foundation
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

@Suite("The listening socket")
struct ListenSocketTests {
    @Test("a unix socket is made owner-and-group only, answers while open, and its path goes with closeAndRemove")
    func unixSocket() throws {
        try withTemporaryDirectory("intake-fcgi") { dir in
            let path = dir + "/intake.sock"
            let socket = try ListenSocket(.unix(path: path))
            let mode = try #require(FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
            #expect(mode & 0o777 == 0o660)
            #expect(ListenSocket.isLiveUnixSocket(path))
            socket.closeAndRemove()
            #expect(!FileManager.default.fileExists(atPath: path))
            #expect(!ListenSocket.isLiveUnixSocket(path))
        }
    }

    @Test("a path a live server answers on is refused; one left by a dead server is taken over")
    func livePathRefused() throws {
        try withTemporaryDirectory("intake-fcgi") { dir in
            let path = dir + "/intake.sock"
            let first = try ListenSocket(.unix(path: path))
            let refused = try #require(throws: FastCGIError.self) { try ListenSocket(.unix(path: path)) }
            #expect(refused.description.contains("another server is listening on \(path)"))
            // The first server dies without removing its path: the file stays, nobody answers.
            close(first.fd)
            #expect(FileManager.default.fileExists(atPath: path) && !ListenSocket.isLiveUnixSocket(path))
            let second = try ListenSocket(.unix(path: path))
            #expect(ListenSocket.isLiveUnixSocket(path))
            second.closeAndRemove()
        }
    }

    @Test("a socket path longer than sockaddr_un holds is an error that says so, before anything is created")
    func pathTooLong() throws {
        let path = "/tmp/" + String(repeating: "x", count: 120) + ".sock"
        let error = try #require(throws: FastCGIError.self) { try ListenSocket(.unix(path: path)) }
        #expect(error.description.contains("socket path longer than 107 bytes"))
        #expect(!FileManager.default.fileExists(atPath: path))
        #expect(throws: FastCGIError.self) { try ListenSocket.unixAddress(path) }
        #expect(try ListenSocket.unixAddress(String(repeating: "y", count: 107)).sun_family == sa_family_t(AF_UNIX))
        // And it leaves no socket open behind: a thousand refusals, and the process's open files
        // did not grow by a thousand (other tests running beside this one open a few).
        func openFiles() -> Int { (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? 0 }
        let before = openFiles()
        for _ in 0..<1000 { _ = try? ListenSocket(.unix(path: path)) }
        #expect(openFiles() - before < 100, "\(openFiles() - before) descriptors left open")
    }

    @Test("a loopback TCP port listens and takes connections")
    func tcp() throws {
        // A free port may be taken by another test's connection before it is bound (the suites
        // run side by side): another port is tried then, a few times.
        var attempts = 0
        var found: (socket: ListenSocket, port: UInt16)?
        while found == nil {
            let port = FreePort.find()
            do {
                found = (try ListenSocket(.tcp(host: "127.0.0.1", port: port)), port)
            } catch let error as FastCGIError where attempts < 5 && error.description.contains("errno \(EADDRINUSE)") {
                attempts += 1
            }
        }
        let (socket, port) = try #require(found)
        defer { socket.closeAndRemove() }
        let fd = try HTTPClient.connect(port: port, timeout: 2)
        close(fd)
    }

    @Test("errors name what failed, with the system's words and errno")
    func errors() {
        #expect(FastCGIError.clientGone("writing the response failed").description == "client gone: writing the response failed")
        #expect(FastCGIError.system("bind /x", errno: EACCES).description == "bind /x: Permission denied (errno 13)")
    }
}
